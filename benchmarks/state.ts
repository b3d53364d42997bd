/**
 * State benchmarks: what the state costs as it grows, each figure next to its ceiling
 * measured in the same run.
 *   - SHA-256 of 65-byte inputs (the ceiling for any binary Merkle tree), and tree updates
 *     in memory (prepare with every path cached) over 100,000 records;
 *   - for states of 100,000, 1,000,000 and 5,000,000 records (5M skipped with --quick),
 *     generated directly (batched writes and one tree build, benchmarks/state-store.ts):
 *       the node's open time and resident memory, in a process of its own
 *       (benchmarks/state-node.ts), and its block commit rate: blocks of UPDATES account
 *       updates (2,000 transfers) — load the keys, prepare, write, fsync, commit — with
 *       pruning running, after WARMUP_BLOCKS blocks (the node's caches start cold); next
 *       to raw LevelDB: fsync'd batches of the same records and bytes per block (the
 *       ceiling for anything persisted).
 * Rates come from the median time per block (the machine is shared).
 * Run alone: `npx node benchmarks/state.ts [--quick]`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { sha256 } from '../core/hash.ts';
import { Database, DbPrefix, dbKey } from '../state/db.ts';
import type { StateChange } from '../state/overlay.ts';
import { WorldState } from '../state/world-state.ts';
import type { NodeRunResult } from './state-node.ts';
import { benchKey, benchValue, generateStore } from './state-store.ts';
import { median, secondsSince as seconds } from './timing.ts';

const UPDATES = 4_000;
const BLOCKS = 10;
const WARMUP_BLOCKS = 3;
const MEMORY_RECORDS = 100_000;
const NODE_SCRIPT = fileURLToPath(new URL('./state-node.ts', import.meta.url));

function sha256Rate(): number {
  const input = new Uint8Array(65);
  const n = 300_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sha256(input);
  return Math.round(n / seconds(start));
}

/** fsync'd batches of `batchSize` random-keyed records of `valueBytes`: blocks/s (median), best of two runs. */
async function rawLevelBlocksPerSec(dir: string, batchSize: number, valueBytes: number): Promise<number> {
  let best = 0;
  for (let run = 0; run < 2; run++) {
    rmSync(dir, { recursive: true, force: true });
    const db = await Database.open(dir);
    const times: number[] = [];
    for (let b = 0; b < 6; b++) {
      const ops = Array.from({ length: batchSize }, () => [dbKey(DbPrefix.stateNode, randomBytes(40)), randomBytes(valueBytes)] as const);
      const start = process.hrtime.bigint();
      const batch = db.batch();
      for (const [k, v] of ops) batch.put(k, v);
      await batch.write();
      times.push(seconds(start));
    }
    await db.close();
    best = Math.max(best, 1 / median(times));
  }
  rmSync(dir, { recursive: true, force: true });
  return best;
}

/** Tree updates/s with every path in the node cache: the hashing and bookkeeping alone. */
async function inMemoryUpdates(dir: string): Promise<{ perSec: number; nodesPerBlock: number }> {
  const db = await Database.open(dir);
  const ws = await WorldState.open(db, { archive: true });
  const seed = await ws.prepare(
    Array.from({ length: MEMORY_RECORDS }, (_, i) => ({ key: benchKey(i), value: benchValue(i, 0) })),
    0,
  );
  const batch = db.batch();
  ws.write(seed, batch);
  await batch.write();
  ws.commit(seed);
  const times: number[] = [];
  let nodes = 0;
  for (let b = 1; b <= BLOCKS; b++) {
    const changes: StateChange[] = Array.from({ length: UPDATES }, (_, j) => {
      const i = (b * 7919 + j * 104729) % MEMORY_RECORDS;
      return { key: benchKey(i), value: benchValue(i, b) };
    });
    await ws.prepare(changes, 1); // warms the paths into the cache
    const start = process.hrtime.bigint();
    nodes += (await ws.prepare(changes, 1)).newNodes.length;
    times.push(seconds(start));
  }
  await ws.close();
  await db.close();
  return { perSec: Math.round(UPDATES / median(times)), nodesPerBlock: Math.round(nodes / BLOCKS) };
}

function runNode(dir: string, genesisFile: string, records: number): Promise<NodeRunResult> {
  return promisify(execFile)(
    process.execPath,
    [
      '--expose-gc',
      NODE_SCRIPT,
      '--dir',
      dir,
      '--genesis',
      genesisFile,
      '--records',
      String(records),
      '--blocks',
      String(BLOCKS),
      '--warmup',
      String(WARMUP_BLOCKS),
      '--updates',
      String(UPDATES),
    ],
    {
      maxBuffer: 1024 * 1024,
    },
  ).then(({ stdout }) => JSON.parse(stdout.trim().split('\n').at(-1)!) as NodeRunResult);
}

export interface StateSizeResult extends NodeRunResult {
  readonly records: number;
  readonly generateSec: number;
  readonly rawLevelDbBlocksPerSec: number;
}

export interface StateBenchResult {
  readonly sha256PerSec65B: number;
  readonly treeUpdatesPerSecInMemory: number;
  readonly treeUpdatesCeilingBySha256: number;
  readonly sizes: readonly StateSizeResult[];
}

export async function runStateBenchmarks(opts: { quick?: boolean; log?: (line: string) => void } = {}): Promise<StateBenchResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = mkdtempSync(join(tmpdir(), 'joule-bench-state-'));
  try {
    const hashRate = sha256Rate();
    const memory = await inMemoryUpdates(join(dir, 'memory'));
    rmSync(join(dir, 'memory'), { recursive: true, force: true });
    const sizes: StateSizeResult[] = [];
    for (const records of opts.quick === true ? [100_000, 1_000_000] : [100_000, 1_000_000, 5_000_000]) {
      const store = join(dir, `state-${records}`);
      const start = process.hrtime.bigint();
      const { genesisFile } = await generateStore(store, records, (p) => {
        if (p.done > 0 && p.done % 1_000_000 === 0) log(`  state ${records.toLocaleString('en-US')}: ${p.phase} ${p.done.toLocaleString('en-US')}`);
      });
      const generateSec = Math.round(seconds(start) * 10) / 10;
      log(`  state ${records.toLocaleString('en-US')}: generated in ${generateSec} s; opening and committing in a node process`);
      const node = await runNode(store, genesisFile, records);
      rmSync(store, { recursive: true, force: true });
      rmSync(genesisFile, { force: true });
      const valueBytes = Math.max(1, Math.round(node.dbBytesPerBlock / node.dbRecordsPerBlock) - 41);
      const raw = await rawLevelBlocksPerSec(join(dir, 'raw'), node.dbRecordsPerBlock, valueBytes);
      sizes.push({ ...node, records, generateSec, rawLevelDbBlocksPerSec: Math.round(raw * 100) / 100 });
    }
    // updates per block x (new nodes + 2 hashes per leaf) / updates: hashes per update
    const hashesPerUpdate = (memory.nodesPerBlock + UPDATES * 2) / UPDATES;
    return { sha256PerSec65B: hashRate, treeUpdatesPerSecInMemory: memory.perSec, treeUpdatesCeilingBySha256: Math.round(hashRate / hashesPerUpdate), sizes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function ratio(a: number, b: number): string {
  return `${((100 * a) / b).toFixed(0)} %`;
}

export function formatStateBenchmarks(r: StateBenchResult): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    `state: blocks of ${n(UPDATES)} account updates (2,000 transfers), 40-byte values`,
    `  tree updates in memory (100,000 records, paths cached)  ${n(r.treeUpdatesPerSecInMemory)}/s   ceiling (sha256 ${n(r.sha256PerSec65B)}/s / hashes per update) ${n(r.treeUpdatesCeilingBySha256)}/s   ${ratio(r.treeUpdatesPerSecInMemory, r.treeUpdatesCeilingBySha256)}`,
    `  records     generate   node open   RSS open   block commits/s (load+tree+fsync, pruning on)   ceiling: raw LevelDB same batch   RSS after (anon + mapped files; JS heap used)   node reads/block`,
  ];
  for (const s of r.sizes) {
    lines.push(
      `  ${n(s.records).padStart(9)}   ${`${s.generateSec} s`.padStart(8)}   ${`${s.openMs} ms`.padStart(9)}   ${`${s.rssAfterOpenMiB} MiB`.padStart(8)}   ${`${s.commitsPerSec}/s`.padStart(8)} = ${n(Math.round(s.commitsPerSec * 2000)).padStart(6)} transfers/s  ${ratio(s.commitsPerSec, s.rawLevelDbBlocksPerSec).padStart(5)} of   ${`${s.rawLevelDbBlocksPerSec}/s (${n(s.dbRecordsPerBlock)} records, ${n(s.dbBytesPerBlock)} B)`.padEnd(34)}${`${s.rssAfterCommitsMiB} MiB (${s.rssAnonAfterCommitsMiB} + ${s.rssFileAfterCommitsMiB}; ${s.heapUsedAfterCommitsMiB})`.padStart(36)}   ${n(s.nodeReadsPerBlock)}`,
    );
  }
  return lines.join('\n');
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  console.log(formatStateBenchmarks(await runStateBenchmarks({ quick: values.quick === true })));
}
