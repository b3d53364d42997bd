import { median } from './timing.ts';

/**
 * A ceiling's rate per core. blst (through @chainsafe/blst) runs a single aggregate-verify
 * on its own thread pool across every core (measured: 1,000 distinct messages, 1.5 s of
 * wall time, 2.9 s of CPU on this 2-core machine), so a wall-clock "one thread" rate is
 * already the whole machine's, and "2 x raw" would count the cores twice. The CPU time the
 * process spent gives the rate of one core; `coresBusy` shows how many the call kept busy.
 */
export interface CpuRate {
  /** Units per second of wall time (what the caller saw). */
  readonly wall: number;
  /** Units per second of one core's time (CPU time of every thread of the process). */
  readonly perCore: number;
  /** CPU time / wall time while it ran. */
  readonly coresBusy: number;
}

/** Runs `work` (which does `units` units) and measures it; call while nothing else of this process runs. */
export function cpuRate(units: number, work: () => void): CpuRate {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  work();
  const wallMs = performance.now() - t0;
  const used = process.cpuUsage(cpu0);
  const cpuMs = (used.user + used.system) / 1000;
  return { wall: (units * 1000) / wallMs, perCore: (units * 1000) / cpuMs, coresBusy: cpuMs / wallMs };
}

/**
 * `cpuRate(...).perCore`, the median of `samples` measurements: on this shared machine one
 * measurement can differ from the next, a second later, by half.
 */
export function medianPerCore(samples: number, units: number, work: () => void): number {
  return median(Array.from({ length: samples }, () => cpuRate(units, work).perCore));
}
