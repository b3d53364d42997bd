import { ErrorCode, JouleError } from '../core/errors.ts';

/**
 * How many pooled txs speak for each device (a telemetry batch for each device it holds a
 * reading of, a device tx for its device): the per-device bound, so that one device's
 * readings, however many aggregators relay them, hold a bounded part of the pool.
 * Holds only devices with at least one pooled tx.
 */
export class DeviceCounts {
  private readonly counts = new Map<string, number>();

  get size(): number {
    return this.counts.size;
  }

  count(device: string): number {
    return this.counts.get(device) ?? 0;
  }

  /** Throws MEMPOOL_DEVICE_LIMIT for the first device already at `max` (not counting the tx being replaced). */
  check(devices: readonly string[], replacing: readonly string[] | undefined, max: number): void {
    for (const d of devices) {
      const held = this.count(d) - (replacing?.includes(d) === true ? 1 : 0);
      if (held >= max) {
        throw new JouleError(ErrorCode.MEMPOOL_DEVICE_LIMIT, `device ${d} already has ${held} pending transactions (limit ${max})`, 'tx.body');
      }
    }
  }

  add(devices: readonly string[], sign: 1 | -1): void {
    for (const d of devices) {
      const n = this.count(d) + sign;
      if (n === 0) this.counts.delete(d);
      else this.counts.set(d, n);
    }
  }

  entries(): IterableIterator<[string, number]> {
    return this.counts.entries();
  }
}
