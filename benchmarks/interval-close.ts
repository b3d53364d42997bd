/**
 * The interval close hook itself (vm/telemetry/close.ts), for as many reporting devices as
 * one block closes while the close keeps up (CLOSE_WORK_PER_BLOCK), run as a node runs it:
 * on what the block's access list and the hooks' later stages load
 * (vm/testing/staged-load.ts), in strict mode.
 * The devices report through real telemetry batches first. Next to it, its ceiling: the
 * same state writes made into an empty overlay and sorted (what the close must do at the
 * least, with no reads). energy.ts measures the minting and the commit on LevelDB; this
 * measures the hook's own reads and bookkeeping, which grow with the number of devices a
 * block closes (a lookup that scanned every loaded range made it O(n^2)).
 *
 * Run alone: `npx node benchmarks/interval-close.ts`. Importing it has no side effects.
 */
import { intervalOf, settlesAt } from '../core/meter.ts';
import { buildDeviceRegister } from '../core/tx/device-register.ts';
import { StateOverlay } from '../state/overlay.ts';
import { CLOSE_UNITS, CLOSE_WORK_PER_BLOCK } from '../vm/telemetry/close.ts';
import { energyChain, registerBody, testDeviceKey } from '../vm/testing/energy-chain.ts';
import { loadAsTheNode } from '../vm/testing/staged-load.ts';
import { batchTx, reading } from '../vm/testing/telemetry.ts';
import { executeBlock } from '../vm/executor.ts';
import { median, msSince as ms } from './timing.ts';

const ROUNDS = 3;
const REGISTERS_PER_BLOCK = 500;
const READINGS_PER_BATCH = 1_000;

export interface IntervalCloseResult {
  readonly devices: number;
  readonly closeMs: number;
  readonly writes: number;
  readonly ceilingMs: number;
}

export async function runIntervalCloseBenchmark(devices = CLOSE_WORK_PER_BLOCK / CLOSE_UNITS.reported): Promise<IntervalCloseResult> {
  const c = energyChain({ accounts: { agg: ['aggregator'], owner: [] } });
  const { agg, owner } = c.accounts;
  const ids = Array.from({ length: devices }, (_, i) => `pv-${String(i).padStart(6, '0')}`);
  const keys = ids.map((_, i) => testDeviceKey(i + 1));
  for (let at = 0; at < devices; at += REGISTERS_PER_BLOCK) {
    const txs = ids
      .slice(at, at + REGISTERS_PER_BLOCK)
      .map((id, j) => buildDeviceRegister({ ...c.sender(agg!, j), device: registerBody(id, keys[at + j]!, owner!.address, { maxExportW: 1_000_000 }) }));
    c.block(...txs);
  }
  const p = c.ctx().params;
  // Every device reports once, early in an interval.
  c.advance(intervalOf(BigInt(c.now()) * 1000n, p.settlementIntervalMs) + p.settlementIntervalMs + 100 - c.now());
  const t = c.now();
  const keyOf = new Map(ids.map((id, i) => [id, keys[i]!]));
  const batches = [];
  for (let at = 0; at < devices; at += READINGS_PER_BATCH) {
    const readings = ids.slice(at, at + READINGS_PER_BATCH).map((id, j) => reading(id, t - 50, -(1 + ((at + j) % 7))));
    batches.push(batchTx(c, agg!, readings, (id) => keyOf.get(id)!, { offset: batches.length }));
  }
  const reported = c.block(...batches);
  if (!reported.receipts.every((r) => r.success)) throw new Error('the benchmark fleet could not report');
  c.advance(settlesAt(intervalOf(BigInt(t) * 1000n, p.settlementIntervalMs), p) - c.now());
  const ctx = c.ctx();

  // Loaded once (from the test fixture's in-memory state, which lists a prefix by sorting
  // every key: not a figure to print; energy.ts measures loading from LevelDB): every
  // round runs the block on it, writing to an overlay of its own.
  const loaded = await loadAsTheNode(c.state, [], ctx);
  const closes: number[] = [];
  const ceilings: number[] = [];
  let writes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    let start = process.hrtime.bigint();
    const r = executeBlock(loaded, [], ctx, { strictAccess: true });
    closes.push(ms(start));
    const closed = r.events.find((e) => e.type === 'interval-closed')?.attributes.find(([k]) => k === 'devices')?.[1];
    if (closed !== String(devices)) throw new Error(`the close closed ${closed} of ${devices} devices`);
    writes = r.changes.length;
    start = process.hrtime.bigint();
    const o = new StateOverlay(c.state);
    for (const w of r.changes) {
      if (w.value === undefined) o.delete(w.key);
      else o.set(w.key, w.value);
    }
    o.changes();
    ceilings.push(ms(start));
  }
  return { devices, closeMs: median(closes), writes, ceilingMs: median(ceilings) };
}

export function formatIntervalCloseBenchmark(r: IntervalCloseResult): string {
  const round = (x: number) => Math.round(x).toLocaleString('en-US');
  return [
    `interval close hook for ${round(r.devices)} devices in one block (its budget), on what the node's stages load, strict`,
    `  ceiling  its ${round(r.writes)} state writes into an empty overlay, sorted       ${round(r.ceilingMs)} ms`,
    `  the close (vm/telemetry/close.ts)                                  ${round(r.closeMs)} ms (${(r.closeMs / Math.max(1, r.ceilingMs)).toFixed(1)} x the ceiling)`,
  ].join('\n');
}

if (import.meta.main) console.log(formatIntervalCloseBenchmark(await runIntervalCloseBenchmark()));
