/**
 * Interval close for DEVICES devices in one block, on a real LevelDB-backed state: loading
 * what the close reads (the devices, and mintPrefixes: storage pools and grid intensity),
 * what the close spends minting (vm/energy/mint.ts mintMeteredInterval, once per device:
 * reads the device, its storage-carbon pool and the zone's grid intensity, writes the UTXO,
 * its owner index entry and the pool; strict: a read outside the loaded set throws), and
 * what committing the block's writes costs (state tree + one fsync'd LevelDB batch). Next to it, its ceiling measured in the same run: raw
 * LevelDB batched writes of the same number of records of the same size. Memory: the heap
 * and RSS growth across the close.
 * A fifth of the devices are batteries or EV chargers (they import and export, so their
 * pools are read and written); the rest are solar and wind exporting.
 * Rates come from the median of CLOSES closes (the machine is shared).
 * Run alone: `npx node benchmarks/energy.ts`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceKind, DeviceRecord } from '../core/device.ts';
import { DEFAULT_PARAMS } from '../core/params.ts';
import { Database, DbPrefix, dbKey } from '../state/db.ts';
import { deviceKey, getDevice, putDevice } from '../state/devices.ts';
import { putGridIntensity } from '../state/energy.ts';
import { StateOverlay, type StateChange } from '../state/overlay.ts';
import { WorldState } from '../state/world-state.ts';
import { mintMeteredInterval, mintPrefixes } from '../vm/energy/mint.ts';
import { median, secondsSince as seconds } from './timing.ts';

const DEVICES = 10_000;
const CLOSES = 5;
const INTERVAL_MS = 900_000;
const T0 = 1_767_225_600_000;

const mib = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;

function device(i: number): DeviceRecord {
  const kinds: DeviceKind[] = ['solar', 'solar', 'wind', 'solar', 'battery'];
  const kind = i % 10 === 9 ? 'ev-charger' : kinds[i % kinds.length]!;
  const key = new Uint8Array(48).fill(i % 251);
  return {
    id: `dev-${String(i).padStart(6, '0')}`,
    publicKey: key,
    owner: new Uint8Array(20).fill(i % 199),
    operator: new Uint8Array(20).fill(7),
    kind,
    zone: i % 2 === 0 ? 'NL' : 'DE-LU',
    maxImportW: 11_000,
    maxExportW: 11_000,
    carbonIntensity: kind === 'wind' ? 11 : kind === 'solar' ? 35 : 0,
    checkMeter: undefined,
    status: 'active',
    keyHistory: [{ key, fromHeight: 1 }],
  };
}

/**
 * The block's commit in its two parts: prepare (the new root: paths loaded, nodes hashed),
 * which the proposer and every validator also do before they vote, within the round timer;
 * then the write (one fsync'd batch) and the caches' update, after the decision.
 */
async function commit(db: Database, ws: WorldState, changes: readonly StateChange[]): Promise<{ records: number; bytes: number; prepareS: number }> {
  const start = process.hrtime.bigint();
  const p = await ws.prepare(changes, ws.version + 1);
  const prepareS = seconds(start);
  const b = db.batch();
  ws.write(p, b);
  const out = { records: b.length, bytes: b.bytes, prepareS };
  await b.write();
  ws.commit(p);
  return out;
}

/** Puts/s through fsync'd batches of `records` records of ~`valueBytes` under random 33-byte keys. */
async function rawLevelRate(dir: string, records: number, valueBytes: number, batches: number): Promise<number> {
  rmSync(dir, { recursive: true, force: true });
  const db = await Database.open(dir);
  const times: number[] = [];
  for (let i = 0; i < batches; i++) {
    const ops = Array.from({ length: records }, () => [dbKey(DbPrefix.stateNode, randomBytes(32)), randomBytes(valueBytes)] as const);
    const start = process.hrtime.bigint();
    const b = db.batch();
    for (const [k, v] of ops) b.put(k, v);
    await b.write();
    times.push(seconds(start));
  }
  await db.close();
  return records / median(times);
}

export async function runEnergyBenchmarks(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'joule-bench-energy-'));
  try {
    const db = await Database.open(join(dir, 'state'));
    const ws = await WorldState.open(db, { strictAccess: true });
    const seed = new StateOverlay(ws);
    for (let i = 0; i < DEVICES; i++) putDevice(seed, device(i));
    for (let k = 0; k < CLOSES; k++) {
      putGridIntensity(seed, 'NL', { intervalStartMs: T0 + k * INTERVAL_MS, carbonIntensity: 300 + k, oracle: new Uint8Array(20).fill(9) });
      putGridIntensity(seed, 'DE-LU', { intervalStartMs: T0 + k * INTERVAL_MS, carbonIntensity: 380 + k, oracle: new Uint8Array(20).fill(9) });
    }
    await commit(db, ws, seed.changes());
    const ids = Array.from({ length: DEVICES }, (_, i) => device(i).id);

    const loadTimes: number[] = [];
    const mintTimes: number[] = [];
    const commitTimes: number[] = [];
    const prepareTimes: number[] = [];
    let records = 0;
    let bytes = 0;
    let writes = 0;
    let heapGrowth = 0;
    let rssGrowth = 0;
    for (let k = 0; k < CLOSES; k++) {
      globalThis.gc?.();
      const heap0 = process.memoryUsage().heapUsed;
      const rss0 = process.memoryUsage().rss;
      let start = process.hrtime.bigint();
      const loaded = await ws.load({ keys: ids.map(deviceKey), prefixes: mintPrefixes(T0 + k * INTERVAL_MS) });
      loadTimes.push(seconds(start));
      start = process.hrtime.bigint();
      const block = new StateOverlay(loaded);
      for (let i = 0; i < DEVICES; i++) {
        // What the close hook does per device: read its record, mint its interval.
        const d = getDevice(block, ids[i]!)!;
        const storage = d.kind === 'battery' || d.kind === 'ev-charger';
        const m = {
          deviceId: d.id,
          intervalStartMs: T0 + k * INTERVAL_MS,
          intervalEndMs: T0 + (k + 1) * INTERVAL_MS,
          importWh: storage ? 2_000n + BigInt(i % 500) : 0n,
          exportWh: storage ? 1_500n : 800n + BigInt(i % 1000),
          frozen: i % 1000 === 0,
        };
        mintMeteredInterval(block, d, m, 100 + k);
      }
      const changes = block.changes();
      mintTimes.push(seconds(start));
      heapGrowth = Math.max(heapGrowth, process.memoryUsage().heapUsed - heap0);
      start = process.hrtime.bigint();
      const c = await commit(db, ws, changes);
      commitTimes.push(seconds(start));
      prepareTimes.push(c.prepareS);
      rssGrowth = Math.max(rssGrowth, process.memoryUsage().rss - rss0);
      records += c.records;
      bytes += c.bytes;
      writes += changes.length;
      if (getDevice(ws, ids[0]!) === undefined) throw new Error('benchmark state lost its devices');
    }
    await db.close();
    const recordsPerClose = Math.round(records / CLOSES);
    const valueBytes = Math.max(1, Math.round(bytes / records) - 33);
    const rawPuts = Math.max(
      await rawLevelRate(join(dir, 'raw'), recordsPerClose, valueBytes, 3),
      await rawLevelRate(join(dir, 'raw'), recordsPerClose, valueBytes, 3),
    );
    const loadS = median(loadTimes);
    const mintS = median(mintTimes);
    const commitS = median(commitTimes);
    const prepareS = median(prepareTimes);
    const stateWritesPerClose = Math.round(writes / CLOSES);
    return {
      devices: DEVICES,
      stateWritesPerClose,
      dbRecordsPerClose: recordsPerClose,
      loadMs: Math.round(loadS * 1000),
      mintMs: Math.round(mintS * 1000),
      commitMs: Math.round(commitS * 1000),
      prepareMs: Math.round(prepareS * 1000),
      prepareUsPerStateWrite: Math.round((prepareS * 1e6) / stateWritesPerClose),
      closeMs: Math.round((loadS + mintS + commitS) * 1000),
      devicesClosedPerSec: Math.round(DEVICES / (loadS + mintS + commitS)),
      rawLevelDbPutsPerSec: Math.round(rawPuts),
      rawLevelDbMsForSameRecords: Math.round((recordsPerClose / rawPuts) * 1000),
      heapGrowthMiB: mib(heapGrowth),
      rssGrowthMiB: mib(rssGrowth),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatEnergyBenchmarks(r: Record<string, number>): string {
  const g = (k: string) => r[k]!;
  return [
    `energy: interval close for ${g('devices')} devices in one block (mintMeteredInterval on a LevelDB-backed state, then the block's commit)`,
    `  close                       ${g('closeMs')} ms  (load ${g('loadMs')} ms + mint ${g('mintMs')} ms + commit ${g('commitMs')} ms) = ${g('devicesClosedPerSec')} devices/s`,
    `  ceiling: raw LevelDB, the same ${g('dbRecordsPerClose')} records in one fsync'd batch   ${g('rawLevelDbMsForSameRecords')} ms (${g('rawLevelDbPutsPerSec')} puts/s)   close/ceiling time ${(g('closeMs') / Math.max(1, g('rawLevelDbMsForSameRecords'))).toFixed(1)}x`,
    `  ${g('stateWritesPerClose')} state writes per close; heap growth ${g('heapGrowthMiB')} MiB, RSS growth ${g('rssGrowthMiB')} MiB`,
    `  of the commit, prepare (the new root)  ${g('prepareMs')} ms = ${g('prepareUsPerStateWrite')} us a state write: the proposer and every validator prepare before they vote, within the round-0 timer of ${DEFAULT_PARAMS.requestTimeoutMs} ms from the height's start (${DEFAULT_PARAMS.blockPeriodMs} ms of it the block period); markets.ts prints the most state writes a block of each market hook makes`,
  ].join('\n');
}

if (import.meta.main) console.log(formatEnergyBenchmarks(await runEnergyBenchmarks()));
