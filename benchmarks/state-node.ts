/**
 * Child process of benchmarks/state.ts, so that memory is the node's alone: opens the
 * chain in `--dir` as the node does (Chain.open with the default state config), reports
 * the open time and resident memory, then commits `--blocks` blocks of `--updates` account
 * updates each through the world state — load the block's keys, prepare (loads the
 * tree paths), write, fsync, commit — with pruning active, and reports the median rate
 * after `--warmup` blocks (the caches start cold).
 * Prints one JSON line. Run by the benchmark; by hand:
 *   node --expose-gc benchmarks/state-node.ts --dir D --genesis D.genesis.json --records N
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { mulberry32 } from '../core/prng.ts';
import { genesisHash, loadGenesis } from '../genesis/index.ts';
import { Chain } from '../node/chain/chain.ts';
import { defaultConfig } from '../node/home/config.ts';
import { benchKey, benchValue } from './state-store.ts';
import { median } from './timing.ts';

const MIB = 1024 * 1024;

function mib(bytes: number): number {
  return Math.round((10 * bytes) / MIB) / 10;
}

function rss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

/**
 * Resident memory split (Linux): anonymous (the heap, the caches, LevelDB's own memory) and
 * file-backed. LevelDB maps the table files it reads (up to 1,000 of them), so file-backed
 * resident pages grow with the database: page cache the kernel takes back under pressure,
 * not memory the node holds.
 */
function rssSplit(): { anonMiB: number; fileMiB: number } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { anonMiB: mib(kb('RssAnon') * 1024), fileMiB: mib(kb('RssFile') * 1024) };
  } catch {
    return { anonMiB: 0, fileMiB: 0 };
  }
}

export interface NodeRunResult {
  readonly openMs: number;
  readonly rssAfterOpenMiB: number;
  readonly commitsPerSec: number;
  readonly rssAfterCommitsMiB: number;
  /** Of which anonymous (heap, caches, LevelDB's memory) and file-backed (mapped table files). */
  readonly rssAnonAfterCommitsMiB: number;
  readonly rssFileAfterCommitsMiB: number;
  /** Of which the JavaScript heap in use (the caches, mostly). */
  readonly heapUsedAfterCommitsMiB: number;
  readonly dbRecordsPerBlock: number;
  readonly dbBytesPerBlock: number;
  readonly nodeReadsPerBlock: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      genesis: { type: 'string' },
      records: { type: 'string' },
      blocks: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      updates: { type: 'string', default: '4000' },
    },
  });
  const records = Number(values.records);
  const blocks = Number(values.blocks);
  const warmup = Number(values.warmup);
  const updates = Number(values.updates);
  const genesis = loadGenesis(values.genesis!);
  const { state } = defaultConfig('bench');
  const rssBefore = rss();
  let t = performance.now();
  const chain = await Chain.open(values.dir!, genesis, genesisHash(genesis), {
    // the node's defaults, but a window of 2 heights so pruning runs during the measured commits
    state: { valueCacheBytes: state.valueCacheMB * MIB, nodeCacheBytes: state.nodeCacheMB * MIB, historyBlocks: 2 },
  });
  const openMs = performance.now() - t;
  const rssAfterOpen = rss();
  const world = chain.world;
  const random = mulberry32(records);
  const times: number[] = [];
  let dbRecords = 0;
  let dbBytes = 0;
  let nodeReadsBefore = world.stats.nodeReads;
  for (let b = 1; b <= warmup + blocks; b++) {
    if (b === warmup + 1) {
      times.length = 0;
      dbRecords = 0;
      dbBytes = 0;
      nodeReadsBefore = world.stats.nodeReads;
    }
    const changes = Array.from({ length: updates }, () => {
      const i = Math.floor(random() * records);
      return { key: benchKey(i), value: benchValue(i, b) };
    });
    t = performance.now();
    await world.load({ keys: changes.map((c) => c.key) });
    const prepared = await world.prepare(changes, world.version + 1);
    const batch = chain.db.batch();
    world.write(prepared, batch);
    dbRecords += batch.length;
    dbBytes += batch.bytes;
    await batch.write();
    world.commit(prepared);
    times.push(performance.now() - t);
  }
  await world.pruned();
  const result: NodeRunResult = {
    openMs: Math.round(openMs * 10) / 10,
    rssAfterOpenMiB: mib(rssAfterOpen),
    commitsPerSec: Math.round((100 * 1000) / median(times)) / 100,
    rssAfterCommitsMiB: mib(rss()),
    rssAnonAfterCommitsMiB: rssSplit().anonMiB,
    rssFileAfterCommitsMiB: rssSplit().fileMiB,
    heapUsedAfterCommitsMiB: mib(process.memoryUsage().heapUsed),
    dbRecordsPerBlock: Math.round(dbRecords / blocks),
    dbBytesPerBlock: Math.round(dbBytes / blocks),
    nodeReadsPerBlock: Math.round((world.stats.nodeReads - nodeReadsBefore) / blocks),
  };
  void rssBefore;
  await chain.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (import.meta.main) await main();
