import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { readKeyInfo } from '../../core/keystore.ts';
import type { NodeRole } from '../../core/roles.ts';
import { loadGenesis } from '../../genesis/index.ts';
import { peerIdFromIdentityKey } from '../../p2p/identity.ts';
import { defaultConfig, loadConfig, resolveIn, type NodeConfig } from './config.ts';
import { Database } from '../../state/db.ts';
import { ChainStore } from '../chain/chain-store.ts';

/**
 * A node home:
 *   config.json   the node's settings (node/home/config.ts)
 *   genesis.json  the chain it belongs to
 *   keys/identity.key   Ed25519 (address, peer id, consensus messages)
 *   keys/consensus.key  BLS (commit seals)
 *   data/         LevelDB: blocks, receipts, indexes, state
 *   wal/          consensus write-ahead log
 */
export interface InitHomeOptions {
  readonly home: string;
  readonly genesisFile: string;
  readonly name: string;
  readonly role: NodeRole;
  readonly identityKeyFile: string;
  readonly consensusKeyFile: string;
  /** The aggregator account's key (devnets): copied to keys/aggregator.key and named by ingress.aggregatorKey. */
  readonly aggregatorKeyFile?: string | undefined;
  readonly ports: { p2p: number; rpc: number; metrics: number; grpc: number };
  readonly peers?: readonly string[];
  readonly logFile?: string | null;
  /** Overrides of the `state` section (local networks run strict: state.strictAccess). */
  readonly state?: Partial<NodeConfig['state']>;
  /** Signature verification workers (default: the machine's cores - 1). */
  readonly verifyWorkers?: number | null;
}

export async function initHome(opts: InitHomeOptions): Promise<{ config: NodeConfig; peerId: string }> {
  if (existsSync(join(opts.home, 'config.json'))) {
    throw new JouleError(ErrorCode.CONFIG_INVALID, `${opts.home} is already a node home (config.json exists)`, 'home');
  }
  loadGenesis(opts.genesisFile); // refuse to create a home around an invalid genesis
  await mkdir(join(opts.home, 'keys'), { recursive: true });
  await copyFile(opts.genesisFile, join(opts.home, 'genesis.json'));
  await copyFile(opts.identityKeyFile, join(opts.home, 'keys', 'identity.key'));
  await copyFile(opts.consensusKeyFile, join(opts.home, 'keys', 'consensus.key'));
  if (opts.aggregatorKeyFile !== undefined) await copyFile(opts.aggregatorKeyFile, join(opts.home, 'keys', 'aggregator.key'));
  const identity = readKeyInfo(JSON.parse(await readFile(opts.identityKeyFile, 'utf8')));
  if (identity.type !== 'ed25519') throw new JouleError(ErrorCode.KEYSTORE_INVALID, 'the identity key must be an ed25519 key', 'identityKey');
  const base = defaultConfig(opts.name);
  const config: NodeConfig = {
    ...base,
    role: opts.role,
    p2p: { ...base.p2p, listen: `/ip4/127.0.0.1/tcp/${opts.ports.p2p}`, peers: opts.peers ?? [] },
    rpc: { ...base.rpc, port: opts.ports.rpc },
    metrics: { ...base.metrics, port: opts.ports.metrics },
    grpc: { ...base.grpc, port: opts.ports.grpc },
    ingress: { ...base.ingress, aggregatorKey: opts.aggregatorKeyFile === undefined ? null : 'keys/aggregator.key' },
    log: { ...base.log, file: opts.logFile ?? null },
    state: { ...base.state, ...opts.state },
    verify: { workers: opts.verifyWorkers ?? base.verify.workers },
  };
  await writeFile(join(opts.home, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return { config, peerId: peerIdFromIdentityKey(identity.publicKey) };
}

/** The head height stored in a (stopped) node home's database; 0 for a new one. */
export async function readHomeHeight(home: string): Promise<number> {
  const config = loadConfig(home);
  const dir = resolveIn(home, config.dataDir);
  if (!existsSync(dir)) return 0;
  const db = await Database.open(dir);
  try {
    return (await new ChainStore(db).head()) ?? 0;
  } finally {
    await db.close();
  }
}
