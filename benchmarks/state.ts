/**
 * State benchmarks: what the state tree and LevelDB cost per block, each next to its
 * ceiling measured in the same run.
 *   - raw LevelDB: fsync'd batches of the same size as a block's state writes (the ceiling
 *     for anything persisted);
 *   - SHA-256 of 65-byte inputs (the ceiling for any binary Merkle tree);
 *   - tree updates/s in memory (prepare only) over a state of ACCOUNTS accounts;
 *   - block commit/s through WorldState: prepare + write into a batch + fsync + commit,
 *     blocks of TRANSFERS transfers (2 account updates each, ~40-byte values).
 * Rates come from the median time per block (the machine is shared; a neighbour's burst
 * should not decide the figure).
 * Run alone: `npx node benchmarks/state.ts`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '../core/hash.ts';
import { Database, DbPrefix, dbKey } from '../state/db.ts';
import { accountKey } from '../state/keys.ts';
import type { StateChange } from '../state/overlay.ts';
import { WorldState } from '../state/world-state.ts';

const ACCOUNTS = 100_000;
const TRANSFERS = 2_000;
const BLOCKS = 10;
const VALUE_BYTES = 40;

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** The median of per-block times: robust to a neighbour's burst on a shared machine. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function perSecond(count: number, secs: number): number {
  return Math.round(count / secs);
}

function accountChanges(addresses: readonly Uint8Array[], count: number): StateChange[] {
  const changes: StateChange[] = [];
  for (let i = 0; i < count; i++) {
    changes.push({ key: accountKey(addresses[Math.floor(Math.random() * addresses.length)]!), value: randomBytes(VALUE_BYTES) });
  }
  return changes;
}

function sha256Rate(): number {
  const input = new Uint8Array(65);
  const n = 300_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sha256(input);
  return perSecond(n, seconds(start));
}

/** Puts/s through fsync'd batches of `batchSize` records of ~`valueBytes`, random 33-byte keys. */
async function rawLevelRate(dir: string, batchSize: number, valueBytes: number, batches: number): Promise<number> {
  rmSync(dir, { recursive: true, force: true });
  const db = await Database.open(dir);
  const prepared = Array.from({ length: batches }, () =>
    Array.from({ length: batchSize }, () => [dbKey(DbPrefix.stateNode, randomBytes(32)), randomBytes(valueBytes)] as const),
  );
  const times: number[] = [];
  for (const ops of prepared) {
    const start = process.hrtime.bigint();
    const b = db.batch();
    for (const [k, v] of ops) b.put(k, v);
    await b.write();
    times.push(seconds(start));
  }
  const rate = perSecond(batchSize, median(times));
  await db.close();
  return rate;
}

async function seedState(db: Database, addresses: readonly Uint8Array[]): Promise<WorldState> {
  const ws = await WorldState.load(db);
  const p = ws.prepare(addresses.map((a) => ({ key: accountKey(a), value: randomBytes(VALUE_BYTES) })));
  const b = db.batch();
  ws.write(p, b);
  await b.write();
  ws.commit(p);
  return ws;
}

export async function runStateBenchmarks(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'joule-bench-state-'));
  try {
    const addresses = Array.from({ length: ACCOUNTS }, () => randomBytes(32));
    const updatesPerBlock = 2 * TRANSFERS;
    const hashRate = sha256Rate();

    const db = await Database.open(join(dir, 'state'));
    let start = process.hrtime.bigint();
    const ws = await seedState(db, addresses);
    const seedSecs = seconds(start);

    // (1) tree updates in memory: prepare only (no I/O), blocks of updatesPerBlock
    const memBlocks = Array.from({ length: BLOCKS }, () => accountChanges(addresses, updatesPerBlock));
    let nodesPerBlock = 0;
    const memTimes: number[] = [];
    for (const changes of memBlocks) {
      start = process.hrtime.bigint();
      nodesPerBlock += ws.prepare(changes).newNodes.length;
      memTimes.push(seconds(start));
    }
    const treeUpdates = perSecond(updatesPerBlock, median(memTimes));
    nodesPerBlock = Math.round(nodesPerBlock / BLOCKS);

    // (2) block commit through tree + LevelDB (fsync per block)
    const blocks = Array.from({ length: BLOCKS }, () => accountChanges(addresses, updatesPerBlock));
    let recordsPerBlock = 0;
    let bytesPerBlock = 0;
    const commitTimes: number[] = [];
    for (const changes of blocks) {
      start = process.hrtime.bigint();
      const p = ws.prepare(changes);
      const b = db.batch();
      ws.write(p, b);
      recordsPerBlock += b.length;
      bytesPerBlock += b.bytes;
      await b.write();
      ws.commit(p);
      commitTimes.push(seconds(start));
    }
    recordsPerBlock = Math.round(recordsPerBlock / BLOCKS);
    bytesPerBlock = Math.round(bytesPerBlock / BLOCKS);
    const blocksPerSec = 1 / median(commitTimes);
    await db.close();

    // (3) loading: rebuild the tree from the flat state and check the root
    const db2 = await Database.open(join(dir, 'state'));
    start = process.hrtime.bigint();
    await WorldState.load(db2);
    const loadSecs = seconds(start);
    await db2.close();

    // ceiling: raw LevelDB, same records per batch, same average record size; the best of
    // two runs, as the machine is shared and a ceiling is the best it can do
    const valueBytes = Math.max(1, Math.round(bytesPerBlock / recordsPerBlock) - 33);
    const rawPuts = Math.max(
      await rawLevelRate(join(dir, 'raw'), recordsPerBlock, valueBytes, BLOCKS),
      await rawLevelRate(join(dir, 'raw'), recordsPerBlock, valueBytes, BLOCKS),
    );
    const rawBlocksPerSec = rawPuts / recordsPerBlock;

    return {
      accounts: ACCOUNTS,
      updatesPerBlock,
      treeNodesWrittenPerBlock: nodesPerBlock,
      dbRecordsPerBlock: recordsPerBlock,
      dbBytesPerBlock: bytesPerBlock,
      sha256PerSec65B: hashRate,
      treeUpdatesPerSecInMemory: treeUpdates,
      treeUpdatesCeilingBySha256: Math.round(hashRate / ((nodesPerBlock + updatesPerBlock * 2) / updatesPerBlock)),
      rawLevelDbPutsPerSec: rawPuts,
      rawLevelDbBlocksPerSec: Math.round(rawBlocksPerSec * 100) / 100,
      blockCommitsPerSec: Math.round(blocksPerSec * 100) / 100,
      stateUpdatesCommittedPerSec: Math.round(blocksPerSec * updatesPerBlock),
      transfersCommittedPerSec: Math.round(blocksPerSec * TRANSFERS),
      seedMsFor100kAccounts: Math.round(seedSecs * 1000),
      loadMsFor100kAccounts: Math.round(loadSecs * 1000),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function ratio(a: number, b: number): string {
  return `${((100 * a) / b).toFixed(0)} %`;
}

export function formatStateBenchmarks(r: Record<string, number>): string {
  const g = (k: string) => r[k]!;
  return [
    `state: ${g('accounts')} accounts, blocks of ${g('updatesPerBlock')} account updates`,
    `  tree updates in memory      ${g('treeUpdatesPerSecInMemory')}/s   ceiling (sha256 ${g('sha256PerSec65B')}/s / hashes per update) ${g('treeUpdatesCeilingBySha256')}/s   ${ratio(g('treeUpdatesPerSecInMemory'), g('treeUpdatesCeilingBySha256'))}`,
    `  block commits (tree+fsync)  ${g('blockCommitsPerSec')}/s   ceiling (raw LevelDB, ${g('dbRecordsPerBlock')} records/batch) ${g('rawLevelDbBlocksPerSec')}/s   ${ratio(g('blockCommitsPerSec'), g('rawLevelDbBlocksPerSec'))}`,
    `  = ${g('stateUpdatesCommittedPerSec')} account updates/s = ${g('transfersCommittedPerSec')} transfers/s; raw LevelDB ${g('rawLevelDbPutsPerSec')} puts/s`,
    `  tree nodes written per block ${g('treeNodesWrittenPerBlock')} (${g('dbBytesPerBlock')} bytes in the batch); seed ${g('seedMsFor100kAccounts')} ms; load+verify ${g('loadMsFor100kAccounts')} ms`,
  ].join('\n');
}

if (import.meta.main) {
  const r = await runStateBenchmarks();
  console.log(formatStateBenchmarks(r));
}
