import type { Command } from 'commander';
import { isJouleError } from '../../core/errors.ts';
import { DEFAULT_PORTS } from '../../node/home/config.ts';
import { createOperatorHome, type OperatorHome } from '../../node/home/operator-home.ts';
import { hostArg, portArg } from '../args.ts';
import { withProgress } from '../progress.ts';
import { CliError } from '../rpc-client.ts';
import { PASSPHRASE_ENV, passphraseFileOption, readPassphrase } from './keys.ts';

/**
 * `joule keys init`: the first step of the genesis ceremony, run by each validator's
 * operator on the validator's own machine. It creates the node home with freshly generated
 * identity and consensus keys, encrypted, 0600 in a 0700 directory, and a config with the
 * node's name and addresses; no genesis yet. The keys never leave this home: the next step
 * (`joule card export`) writes the public card that the coordinator needs.
 */

interface KeysInitOptions {
  home: string;
  name: string;
  p2p: string;
  rpcHost?: string;
  rpcPort: number;
  metricsHost?: string;
  metricsPort: number;
  grpcHost?: string;
  grpcPort: number;
  passphraseFile?: string;
  insecure?: boolean;
  json?: boolean;
}

/** The option each field of createOperatorHome's errors comes from. */
const FLAGS: Readonly<Record<string, string>> = { home: '--home', name: '--name', p2p: '--p2p', passphrase: '--passphrase-file' };

async function keysInit(opts: KeysInitOptions): Promise<void> {
  if (opts.insecure === true && opts.passphraseFile !== undefined) {
    throw new CliError('INVALID_PARAMS', 'give either --passphrase-file (encrypted keys) or --insecure (unencrypted devnet keys), not both', 'insecure');
  }
  const passphrase = opts.insecure === true ? undefined : readPassphrase(opts.passphraseFile);
  if (opts.insecure !== true && passphrase === undefined) {
    throw new CliError(
      'KEYSTORE_BAD_PASSPHRASE',
      `the keys must be encrypted: give --passphrase-file FILE or set ${PASSPHRASE_ENV} (or --insecure for throwaway devnet keys)`,
      'passphrase-file',
    );
  }
  if (opts.insecure === true) process.stderr.write('warning: --insecure: writing UNENCRYPTED keys; use this home only for a throwaway devnet\n');
  let made: OperatorHome;
  try {
    made = await withProgress(
      opts.insecure === true ? 'writing keys' : 'generating and encrypting keys (scrypt)',
      (progress) =>
        createOperatorHome({
          home: opts.home,
          name: opts.name,
          p2p: opts.p2p,
          ...(passphrase !== undefined ? { passphrase } : {}),
          insecure: opts.insecure === true,
          rpc: { host: opts.rpcHost, port: opts.rpcPort },
          metrics: { host: opts.metricsHost, port: opts.metricsPort },
          grpc: { host: opts.grpcHost, port: opts.grpcPort },
          onKey: (_f, done, total) => progress.update(`${opts.insecure === true ? 'writing' : 'encrypting'} keys ${done}/${total}`),
        }),
      () => 'keys written',
    );
  } catch (e) {
    const flag = isJouleError(e) && e.field !== undefined ? FLAGS[e.field] : undefined;
    if (isJouleError(e) && flag !== undefined) throw new CliError(e.code, `${flag}: ${e.message.replace(`${e.field}: `, '')}`, e.field);
    throw e;
  }
  const result = {
    home: opts.home,
    name: made.config.name,
    address: made.address,
    peerId: made.peerId,
    p2p: made.config.p2p.listen,
    identityKey: made.identityKeyFile,
    consensusKey: made.consensusKeyFile,
    encrypted: opts.insecure !== true,
  };
  if (opts.json === true) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const lines = [
    `home        ${opts.home}`,
    `name        ${result.name}`,
    `address     ${result.address}`,
    `peer id     ${result.peerId}`,
    `p2p         ${result.p2p}`,
    `keys        ${result.identityKey}, ${result.consensusKey} (${result.encrypted ? 'encrypted, 0600' : 'UNENCRYPTED'}); they never leave this machine`,
    '',
    `next: joule card export --home ${opts.home} --chain-id CHAIN --out ${result.name}.card.json`,
    '      and send the card (public, no secret in it) to the coordinator',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerKeysInitCommand(keys: Command): void {
  keys
    .command('init')
    .description("create a validator's node home with new keys made here (genesis ceremony, step 1; no genesis yet)")
    .requiredOption('--home <dir>', 'the node home to create (0700; must not hold a home or keys already)')
    .requiredOption('--name <name>', "the validator's name in the set (letters, digits, '.', '_', '-')")
    .requiredOption('--p2p <multiaddr>', 'where the node listens and the other validators dial it: /ip4/ADDR/tcp/PORT')
    .option('--rpc-host <host>', 'JSON-RPC listen address', hostArg('rpc-host'))
    .option('--rpc-port <port>', 'JSON-RPC port', portArg('rpc-port'), DEFAULT_PORTS.rpc)
    .option('--metrics-host <host>', 'metrics and /health listen address', hostArg('metrics-host'))
    .option('--metrics-port <port>', 'metrics and /health port', portArg('metrics-port'), DEFAULT_PORTS.metrics)
    .option('--grpc-host <host>', 'device gRPC listen address', hostArg('grpc-host'))
    .option('--grpc-port <port>', 'device gRPC port', portArg('grpc-port'), DEFAULT_PORTS.grpc)
    .addOption(passphraseFileOption())
    .option('--insecure', 'write UNENCRYPTED keys (throwaway devnets only)')
    .option('--json', 'print the result as one JSON object')
    .action(async (opts: KeysInitOptions) => keysInit(opts));
}
