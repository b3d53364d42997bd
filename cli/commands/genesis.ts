import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { toHex } from '../../core/bytes.ts';
import {
  generateDevnet,
  genesisHash,
  parseGenesis,
  validateGenesis,
  writeDevnetFiles,
  DEFAULT_DEVNET_CHAIN_ID,
  DEFAULT_DEVNET_BALANCE,
  type Genesis,
} from '../../genesis/index.ts';
import { amountOption, intArg } from '../args.ts';
import { withProgress } from '../progress.ts';
import { CliError } from '../rpc-client.ts';
import { registerGenesisAssembleCommand } from './genesis-assemble.ts';
import { PASSPHRASE_ENV, passphraseFileOption, readPassphrase } from './keys.ts';

/** `joule genesis init|assemble|validate|hash` (assemble: genesis-assemble.ts). */

interface InitOptions {
  validators: number;
  accounts: number;
  governors: number;
  out: string;
  chainId: string;
  balance: bigint;
  genesisTime?: number;
  passphraseFile?: string;
  insecure?: boolean;
  json?: boolean;
}

async function init(opts: InitOptions): Promise<void> {
  if (opts.insecure === true && opts.passphraseFile !== undefined) {
    throw new CliError('INVALID_PARAMS', 'give either --passphrase-file (encrypted keys) or --insecure (unencrypted devnet keys), not both');
  }
  const passphrase = opts.insecure === true ? undefined : readPassphrase(opts.passphraseFile);
  if (opts.insecure !== true && passphrase === undefined) {
    throw new CliError(
      'KEYSTORE_BAD_PASSPHRASE',
      `the keys must be encrypted: give --passphrase-file FILE or set ${PASSPHRASE_ENV} (or --insecure for throwaway devnet keys)`,
    );
  }
  // Refuse before generating anything: overwriting keys a chain depends on is unrecoverable.
  for (const p of [join(opts.out, 'genesis.json'), join(opts.out, 'keys')]) {
    if (existsSync(p)) throw new CliError('FILE_EXISTS', `${p} already exists; refusing to overwrite (choose another --out)`);
  }
  const devnet = generateDevnet({
    chainId: opts.chainId,
    validators: opts.validators,
    accounts: opts.accounts,
    balance: opts.balance,
    governors: opts.governors,
    ...(opts.genesisTime !== undefined ? { genesisTime: opts.genesisTime } : {}),
  });
  if (opts.insecure === true) {
    process.stderr.write('warning: --insecure: writing UNENCRYPTED devnet keys; use them only for a throwaway local devnet\n');
  }
  const files = await withProgress(
    opts.insecure === true ? 'writing keys' : 'encrypting keys (scrypt)',
    (progress) =>
      writeDevnetFiles(opts.out, devnet, {
        ...(passphrase !== undefined ? { passphrase } : {}),
        insecure: opts.insecure === true,
        onKey: (_f, done, total) => progress.update(`${opts.insecure === true ? 'writing' : 'encrypting'} keys ${done}/${total}`),
      }),
    (f) => `wrote ${f.validators.length * 2 + f.accounts.length + f.governors.length} key files`,
  );
  const hash = `0x${toHex(genesisHash(devnet.genesis))}`;
  if (opts.json === true) {
    process.stdout.write(
      `${JSON.stringify({ genesis: files.genesisFile, chainId: devnet.genesis.chainId, genesisHash: hash, encrypted: opts.insecure !== true, validators: files.validators, accounts: files.accounts, governors: files.governors })}\n`,
    );
    return;
  }
  const rel = (p: string): string => relative(process.cwd(), p) || p;
  const lines = [
    `genesis     ${rel(files.genesisFile)}`,
    `chain id    ${devnet.genesis.chainId}`,
    `hash        ${hash}`,
    `validators  ${files.validators.length}: ${rel(join(opts.out, 'keys'))}/validator-<i>/{identity,consensus}.key`,
    `accounts    ${files.accounts.length}: ${rel(join(opts.out, 'keys'))}/account-<j>.key`,
    ...(files.governors.length === 0
      ? []
      : [
          `governors   ${files.governors.length}, any ${devnet.genesis.governorThreshold} reverse a settlement: ${rel(join(opts.out, 'keys'))}/governor-<i>.key`,
        ]),
    `keys        ${opts.insecure === true ? 'UNENCRYPTED (insecure devnet mode)' : 'encrypted with your passphrase'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError('GENESIS_INVALID', `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError('GENESIS_INVALID', `${file} is not valid JSON (${(e as Error).message})`);
  }
}

export function registerGenesisCommands(program: Command): void {
  const genesis = program.command('genesis').description('create and check genesis files');

  genesis
    .command('init')
    .description('generate keys and a genesis (DIR/genesis.json, DIR/keys/validator-<i>/{identity,consensus}.key, DIR/keys/account-<j>.key)')
    .option('--validators <n>', 'number of validators', intArg('validators', 1, 1024), 1)
    .option(
      '--accounts <m>',
      'number of funded accounts (account-0 also gets the dso, aggregator, market-operator and issuer roles)',
      intArg('accounts', 0, 100_000),
      4,
    )
    .option(
      '--governors <n>',
      'number of governor accounts (governor-<i>; any 2 of them, or the one, reverse a market settlement)',
      intArg('governors', 0, 64),
      0,
    )
    .requiredOption('--out <dir>', 'output directory (must not already hold a genesis or keys)')
    .option('--chain-id <id>', 'chain id ([a-z0-9-], at most 64 characters)', DEFAULT_DEVNET_CHAIN_ID)
    .addOption(amountOption('--balance <micro>', 'balance of each account and validator, in micro-units', 'balance', DEFAULT_DEVNET_BALANCE))
    .option('--genesis-time <ms>', 'genesis time in ms since the epoch (default: now)', intArg('genesis-time', 0, Number.MAX_SAFE_INTEGER))
    .addOption(passphraseFileOption())
    .option('--insecure', 'write UNENCRYPTED keys (throwaway devnets only)')
    .option('--json', 'print the result as one JSON object')
    .action(async (opts: InitOptions) => init(opts));

  registerGenesisAssembleCommand(genesis);

  genesis
    .command('validate')
    .description('check a genesis file; prints every problem with its JSON path, or "ok"')
    .argument('<file>', 'genesis.json')
    .option('--json', 'print { ok, problems } as JSON')
    .action((file: string, opts: { json?: boolean }) => {
      const problems = validateGenesis(readJson(file));
      if (opts.json === true) process.stdout.write(`${JSON.stringify({ ok: problems.length === 0, problems })}\n`);
      else if (problems.length === 0) process.stdout.write('ok\n');
      else {
        for (const p of problems) process.stdout.write(`${p.path}: ${p.message}\n`);
        process.stderr.write(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
      }
      if (problems.length > 0) process.exitCode = 1;
    });

  genesis
    .command('hash')
    .description("print the genesis hash (the chain's identity; every node of a chain must show the same)")
    .argument('<file>', 'genesis.json')
    .action((file: string) => {
      let g: Genesis;
      try {
        g = parseGenesis(readJson(file));
      } catch (e) {
        const err = e as { code?: string; message: string };
        throw new CliError(err.code ?? 'GENESIS_INVALID', `${file}: ${err.message}`);
      }
      process.stdout.write(`0x${toHex(genesisHash(g))}\n`);
    });
}
