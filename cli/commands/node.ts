import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { ErrorCode } from '../../core/errors.ts';
import { blsGenerate, ed25519Generate } from '../../core/keys.ts';
import { encryptKey } from '../../core/keystore.ts';
import { NODE_ROLES } from '../../core/roles.ts';
import { DEFAULT_PORTS } from '../../node/home/config.ts';
import { initHome } from '../../node/home/home.ts';
import { readPassphrase } from '../../node/home/keys.ts';
import { awaitsGenesis } from '../../node/home/operator-home.ts';
import { CliError } from '../rpc-client.ts';
import { adoptCeremonyGenesis, applyCeremonyCards, checkExpectedHash } from './init-ceremony.ts';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`not a port: ${v}`);
  return n;
}

/** Writes a fresh key pair of the node into a temporary file for initHome to copy. */
async function freshKeyFile(type: 'ed25519' | 'bls', passphrase: string | undefined, insecure: boolean): Promise<string> {
  const secret = type === 'ed25519' ? ed25519Generate().seed : blsGenerate().secretKey;
  const json = await encryptKey({ type, secret, passphrase, insecure });
  const file = join(await mkdtemp(join(tmpdir(), 'joule-key-')), `${type}.key`);
  await writeFile(file, JSON.stringify(json), { mode: 0o600 });
  return file;
}

/** `joule init`, `joule start`, `joule devnet`. */
export function registerNodeCommands(program: Command): void {
  program
    .command('init')
    .description('create a node home: config.json, genesis.json, keys/, data/; or give a home made by `joule keys init` its genesis')
    .requiredOption('--home <dir>', 'the node home to create')
    .requiredOption('--genesis <file>', 'the genesis file of the chain')
    .option('--name <name>', 'node name (logs, metrics)', 'node')
    .option('--role <role>', 'validator or observer', 'validator')
    .option('--identity-key <file>', 'Ed25519 identity key file (default: generate one)')
    .option('--consensus-key <file>', 'BLS consensus key file (default: generate one)')
    .option('--p2p-port <port>', 'libp2p TCP port', String(DEFAULT_PORTS.p2p))
    .option('--rpc-port <port>', 'JSON-RPC port', String(DEFAULT_PORTS.rpc))
    .option('--metrics-port <port>', 'metrics/health port', String(DEFAULT_PORTS.metrics))
    .option('--grpc-port <port>', 'device gRPC port', String(DEFAULT_PORTS.grpc))
    .option('--peer <multiaddr...>', 'static peers (/ip4/…/tcp/…/p2p/<peerId>)')
    .option('--passphrase-file <file>', 'passphrase for generated keys (else JOULE_PASSPHRASE)')
    .option('--insecure', 'write generated keys unencrypted (devnets only)')
    .option('--expect-hash <hex>', 'refuse the genesis unless its hash is this (0x + 64 hex digits; required for a `keys init` home)')
    .option('--cards <files...>', "the validators' cards: their p2p addresses become the static peers")
    .option('--json', 'print the result as one JSON object (with --expect-hash or --cards)')
    .action(async (o) => {
      if (awaitsGenesis(o.home)) {
        // A home made by `joule keys init`: its keys and config exist; only the genesis and peers are missing.
        for (const flag of ['identityKey', 'consensusKey', 'peer'] as const) {
          if (o[flag] !== undefined)
            throw new CliError(
              'INVALID_PARAMS',
              `${o.home} already has its keys and config (joule keys init); --identity-key, --consensus-key and --peer do not apply (peers come from --cards)`,
              flag,
            );
        }
        await adoptCeremonyGenesis(o);
        return;
      }
      if (!(NODE_ROLES as readonly unknown[]).includes(o.role)) throw new Error(`--role must be ${NODE_ROLES.join(' or ')}`);
      checkExpectedHash(o.genesis, o.expectHash);
      const passphrase = readPassphrase(o.passphraseFile);
      const insecure = o.insecure === true;
      if (!insecure && passphrase === undefined && (o.identityKey === undefined || o.consensusKey === undefined)) {
        throw new Error('generated keys are encrypted: give --passphrase-file or JOULE_PASSPHRASE (or --insecure for a devnet)');
      }
      // Generated keys go through a private temp dir that initHome copies from; removed whatever happens.
      const generated: string[] = [];
      const fresh = async (type: 'ed25519' | 'bls') => {
        const file = await freshKeyFile(type, passphrase, insecure);
        generated.push(dirname(file));
        return file;
      };
      let init: Awaited<ReturnType<typeof initHome>>;
      try {
        init = await initHome({
          home: o.home,
          genesisFile: o.genesis,
          name: o.name,
          role: o.role,
          identityKeyFile: o.identityKey ?? (await fresh('ed25519')),
          consensusKeyFile: o.consensusKey ?? (await fresh('bls')),
          ports: { p2p: port(o.p2pPort), rpc: port(o.rpcPort), metrics: port(o.metricsPort), grpc: port(o.grpcPort) },
          peers: o.peer ?? [],
        });
      } finally {
        for (const d of generated) await rm(d, { recursive: true, force: true });
      }
      const { config, peerId } = init;
      if (o.cards !== undefined || o.json === true) {
        await applyCeremonyCards({ ...o, cards: o.cards ?? [] });
        return;
      }
      console.log(
        `initialised ${o.home} (${config.role} "${config.name}", peer id ${peerId}${o.expectHash !== undefined ? ', genesis hash as expected' : ''})`,
      );
      console.log(`start it with: joule start --home ${o.home}`);
    });

  program
    .command('start')
    .description('run a node from its home until SIGINT/SIGTERM')
    .requiredOption('--home <dir>', 'the node home')
    .option('--passphrase-file <file>', 'passphrase of the key files (else JOULE_PASSPHRASE)')
    .action(async (o) => {
      // Loaded here: the node pulls in libp2p, LevelDB and every part, which the other commands do not need.
      const { JouleNode } = await import('../../node/node.ts');
      const node = await JouleNode.start({ home: o.home, passphraseFile: o.passphraseFile });
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) return;
          stopping = true;
          node.logger.info({ signal }, 'shutting down');
          node.stop().then(resolve, (e) => {
            node.logger.error({ err: e }, 'shutdown failed');
            process.exitCode = 1;
            resolve();
          });
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
        void node.halted.then((reason) => {
          console.error(`error ${reason.code}: ${reason.message}`);
          // 4: this machine's disk (systemd restarts it until the disk takes writes again);
          // 3: a halt no restart can fix (deploy/joule.service RestartPreventExitStatus).
          process.exitCode = reason.code === ErrorCode.STORAGE_FAILED ? 4 : 3;
          stop('halt');
        });
      });
    });

  program
    .command('devnet')
    .description('run a local devnet: one OS process per validator, until Ctrl-C')
    .option('--validators <n>', 'number of validators', '4')
    .option('--accounts <n>', 'number of funded accounts', '10')
    .option('--home <dir>', 'devnet directory (created, or reused if it holds a devnet)')
    .option('--base-port <port>', 'node i uses base+10i+{0 p2p, 1 rpc, 2 metrics, 3 grpc}', '26600')
    .option('--block-period <ms>', 'block period in ms (new devnets only)', '1000')
    .option('--no-follow', 'start the nodes and exit (leave them running)')
    .option('--fleet <n>', 'devices streaming readings over gRPC while following (0: none)', '50')
    .option('--no-market', "no market beside the fleet (default: the fleet's owners and the funded accounts trade in zone SIM)")
    .action(async (o) => {
      const validators = Number(o.validators);
      const accounts = Number(o.accounts);
      if (!Number.isInteger(validators) || validators < 1 || validators > 64) throw new Error('--validators must be an integer from 1 to 64');
      if (!Number.isInteger(accounts) || accounts < 0) throw new Error('--accounts must be a non-negative integer');
      const { runDevnet } = await import('../devnet.ts');
      await runDevnet({
        home: o.home,
        validators,
        accounts,
        basePort: port(o.basePort),
        blockPeriodMs: Number(o.blockPeriod),
        follow: o.follow !== false,
        fleet: Number.isSafeInteger(Number(o.fleet)) && Number(o.fleet) >= 0 ? Number(o.fleet) : 50,
        market: o.market !== false,
      });
    });
}
