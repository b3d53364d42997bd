/**
 * Telemetry verification: readings verified per second in one telemetry batch of 1,000 and
 * of 10,000 readings (the aggregate signature set the tx-20 handler forms from the state:
 * every reading's fixed-layout bytes under its own device's key), through the worker pool
 * of node/verify/ with 2 workers, next to blst's raw aggregate-verify rate measured in the
 * same run on the same batch (keys and signature parsed beforehand: the pairing work
 * alone). blst runs one aggregate-verify on its own threads across every core, so the raw
 * rate is taken per core of CPU time (cpu-rate.ts). Target: the pool at least 80 % of
 * 2 cores x raw.
 *
 * One batch's aggregate is one job on one worker, which blst itself spreads over the
 * cores (its pairings run on its own thread pool). The figures show both: batches in
 * flight together, as on a node (several aggregators, a block of batches: throughput),
 * and one batch alone (its latency).
 *
 * Run alone: `npx node benchmarks/telemetry.ts`. Importing it has no side effects.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import * as blst from '@chainsafe/blst';
import { utf8 } from '../core/bytes.ts';
import type { DeviceRecord } from '../core/device.ts';
import { sha256 } from '../core/hash.ts';
import { blsAggregateSignatures, blsFromSecret, blsSign } from '../core/keys.ts';
import { DEVNET_PARAMS } from '../core/params.ts';
import type { BlsAggregateSet, SignatureSet } from '../core/signature-sets.ts';
import { readingSigningBytes, type Reading } from '../core/telemetry.ts';
import type { TelemetryBatchBody } from '../core/tx/telemetry-batch.ts';
import type { Tx } from '../core/tx.ts';
import { NO_VERIFY_METRICS } from '../node/verify/metrics.ts';
import { WorkerPoolVerifier } from '../node/verify/worker-pool.ts';
import { cpuRate, type CpuRate } from './cpu-rate.ts';
import { putDevice } from '../state/devices.ts';
import { StateOverlay } from '../state/overlay.ts';
import { telemetryBatchHandler } from '../vm/telemetry/batch.ts';
import { MemoryState } from '../vm/testing/fixtures.ts';

const CHAIN = 'joule-bench';
const WORKERS = 2;
const ROUNDS = 3;
/** Batch sizes; batches timed per size, at most `inFlight` at once: enough to keep both workers busy within the pool's queue bound (2 cost units a reading). */
const SIZES = [
  { readings: 1_000, batches: 16, inFlight: 8 },
  { readings: 10_000, batches: 4, inFlight: 3 },
] as const;

/** A state holding `n` devices with distinct keys, and a batch of one reading of each, signed. */
function fleetBatch(n: number): { set: BlsAggregateSet; readings: number } {
  const state = new MemoryState();
  const o = new StateOverlay(state);
  const operator = new Uint8Array(20).fill(1);
  const secrets: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const secret = sha256(utf8(`joule-bench/telemetry-device/${i}`));
    secret[0] = 0x11;
    const { publicKey } = blsFromSecret(secret);
    secrets.push(secret);
    const d: DeviceRecord = {
      id: `dev-${i}`,
      publicKey,
      owner: operator,
      operator,
      kind: 'solar',
      zone: 'NL',
      maxImportW: 0,
      maxExportW: 10_000,
      carbonIntensity: 0,
      checkMeter: undefined,
      status: 'active',
      keyHistory: [{ key: publicKey, fromHeight: 1 }],
    };
    putDevice(o, d);
  }
  state.apply(o.changes());
  const t = 1_700_000_000_000_000n;
  const readings: Reading[] = secrets.map((_, i) => ({
    deviceId: `dev-${i}`,
    timestampUs: t + BigInt(i),
    netEnergyWh: -BigInt(1 + (i % 5)),
    stateOfChargePercent: 0,
  }));
  const signature = blsAggregateSignatures(readings.map((r, i) => blsSign(secrets[i]!, readingSigningBytes(CHAIN, r))));
  const body: TelemetryBatchBody = { keyHeight: 2, readings, signature };
  // The very set admission and block import send to the pool for this batch (vm/telemetry/batch.ts).
  const [sets] = [telemetryBatchHandler.signatureSets!(body, {} as Tx, { chainId: CHAIN, params: DEVNET_PARAMS, height: 2 }, state)];
  const set = sets[0]!.set;
  if (set.kind !== 'bls-aggregate') throw new Error('expected an aggregate set');
  return { set, readings: n };
}

/** blst's aggregate-verify of the batch, keys and signature parsed beforehand: readings/s, whole and per core. */
function rawRate(set: BlsAggregateSet, times: number): CpuRate {
  const pks = set.publicKeys.map((k) => blst.PublicKey.fromBytes(k, true));
  const sig = blst.Signature.fromBytes(set.signature, true);
  const msgs = [...set.messages];
  return cpuRate(times * set.messages.length, () => {
    for (let i = 0; i < times; i++) if (!blst.aggregateVerify(msgs, pks, sig)) throw new Error('bad aggregate in benchmark');
  });
}

/** Readings/s through the pool: `batches` copies of the batch, at most `window` in flight. */
async function poolRate(pool: WorkerPoolVerifier, set: SignatureSet, readings: number, batches: number, window: number): Promise<number> {
  const t = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < batches) {
      next++;
      if (!(await pool.verify([set], { priority: 'block', batchable: false }))) throw new Error('bad aggregate in benchmark');
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, batches) }, lane));
  return (batches * readings * 1000) / (performance.now() - t);
}

const SPIN = `const { parentPort } = require('node:worker_threads'); const end = Date.now() + 2000; let n = 0; while (Date.now() < end) for (let i = 0; i < 1e5; i++) n += i % 7; parentPort.postMessage(n);`;

/** The work two busy threads get done next to one (2.0 on two idle cores): what a shared machine lets a pool of 2 reach. */
async function parallelism(): Promise<number> {
  const spin = async (threads: number) => {
    const counts = await Promise.all(
      Array.from({ length: threads }, () => new Promise<number>((resolve) => new Worker(SPIN, { eval: true }).once('message', resolve))),
    );
    return counts.reduce((a, b) => a + b, 0);
  };
  const one = await spin(1);
  return (await spin(2)) / one;
}

export interface TelemetryBenchmark {
  readonly readings: number;
  /** blst's own rate on this machine (its thread pool uses every core), per second of wall time and per core. */
  readonly raw: CpuRate;
  readonly poolThroughput: number;
  readonly poolOneBatch: number;
  readonly fallbacks: number;
}

export async function runTelemetryBenchmarks(log: (line: string) => void = console.log): Promise<TelemetryBenchmark[]> {
  let fallbacks = 0;
  const pool = new WorkerPoolVerifier({
    workers: WORKERS,
    metrics: { ...NO_VERIFY_METRICS, fallback: () => void fallbacks++ },
  });
  const out: TelemetryBenchmark[] = [];
  try {
    for (const size of SIZES) {
      const n = size.readings;
      const { set, readings } = fleetBatch(n);
      fallbacks = 0;
      // Warm-up: JIT, blst, the workers' first messages.
      rawRate(set, 1);
      await poolRate(pool, set, readings, WORKERS, WORKERS);
      let raw: CpuRate = { wall: 0, perCore: 0, coresBusy: 0 };
      let through = 0;
      let alone = 0;
      // The machine is shared: best of ROUNDS interleaved runs, so a neighbour's burst lowers neither side alone.
      for (let r = 0; r < ROUNDS; r++) {
        const r = rawRate(set, n >= 10_000 ? 1 : 4);
        if (r.perCore > raw.perCore) raw = r;
        through = Math.max(through, await poolRate(pool, set, readings, size.batches, size.inFlight));
        alone = Math.max(alone, await poolRate(pool, set, readings, 1, 1));
      }
      out.push({ readings: n, raw, poolThroughput: through, poolOneBatch: alone, fallbacks });
    }
  } finally {
    await pool.close();
  }
  const f = (x: number) => Math.round(x).toLocaleString('en-US');
  const cores = await parallelism();
  log(`telemetry: readings verified per second, one telemetry batch's aggregate signature (tx 20's set), pool of ${WORKERS} workers, best of ${ROUNDS}`);
  log(
    `  this machine now: two busy threads do ${cores.toFixed(2)} x the work of one (2.00 on two idle cores): the pool can reach at most that x the per-core rate`,
  );
  for (const b of out) {
    log(`  batch of ${f(b.readings)} readings`);
    log(
      `    raw   blst aggregate-verify (keys parsed beforehand)            ${f(b.raw.wall)} readings/s on ${b.raw.coresBusy.toFixed(2)} cores (blst's own threads) = ${f(b.raw.perCore)} a core`,
    );
    log(
      `    pool, batches in flight                                         ${f(b.poolThroughput)} readings/s  (${((100 * b.poolThroughput) / (2 * b.raw.perCore)).toFixed(0)} % of 2 cores x raw; target >= 80 %)`,
    );
    log(
      `    pool, one batch alone (one job; blst spreads it over the cores)   ${f(b.poolOneBatch)} readings/s  (${((100 * b.poolOneBatch) / b.raw.wall).toFixed(0)} % of raw; ${((1000 * b.readings) / b.poolOneBatch).toFixed(0)} ms a batch)`,
    );
    if (b.fallbacks > 0) log(`    (${b.fallbacks} job(s) verified on the caller's thread: the pool was full)`);
  }
  return out;
}

if (import.meta.main) {
  await runTelemetryBenchmarks();
}
