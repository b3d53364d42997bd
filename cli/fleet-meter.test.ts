import { describe, expect, it } from 'vitest';
import { FleetMeters } from './fleet-meter.ts';

describe('FleetMeters', () => {
  it('carries what a reading cannot report, so frequent readings of under 1 Wh still add up', () => {
    const meters = new FleetMeters(4000);
    // 4 kW at 60-100 % for 0.5 s is 0.33-0.56 Wh a reading: each alone would round to 0.
    let reported = 0n;
    for (let k = 0; k < 7200; k++) reported += meters.exportedWh(3, k, 500_000n);
    // An hour at 60-100 % of 4 kW: between 2,400 and 4,000 Wh, less at most 1 Wh still carried.
    expect(reported).toBeGreaterThan(2400n);
    expect(reported).toBeLessThanOrEqual(4000n);
    const exact = Array.from({ length: 7200 }, (_, k) => (4000n * BigInt(60 + ((3 * 37 + k * 11) % 41)) * 500_000n) / 100n).reduce((a, b) => a + b, 0n);
    expect(reported).toBe(exact / 3_600_000_000n);
  });

  it('keeps each device its own register', () => {
    const meters = new FleetMeters(1000);
    const a = [0, 1, 2, 3].map((k) => meters.exportedWh(0, k, 1_800_000_000n));
    const fresh = new FleetMeters(1000);
    fresh.exportedWh(1, 0, 7n);
    expect([0, 1, 2, 3].map((k) => fresh.exportedWh(0, k, 1_800_000_000n))).toEqual(a);
  });
});
