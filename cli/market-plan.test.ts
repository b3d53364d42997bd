import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exportLimitWh, nextOpenInterval, planMarket } from './market-plan.ts';

describe('joule simulate market: the orders of one market', () => {
  it('are always placeable: asks within their device export limit, prices in range, no account on both sides; the same seed, the same orders', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ owner: fc.integer({ min: 0, max: 5 }), maxExportW: fc.integer({ min: 0, max: 100_000 }) }), { maxLength: 12 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { maxLength: 8 }),
        fc.integer({ min: 1_000, max: 900_000 }),
        fc.bigInt({ min: 1n, max: 1_000_000n }),
        fc.bigInt({ min: 0n, max: 1_000_000n }),
        fc.nat(),
        (devs, buyerIds, intervalMs, minPrice, spread, seed) => {
          const devices = devs.map((d, i) => ({ id: `d-${i}`, owner: `acct-${d.owner}`, maxExportW: d.maxExportW }));
          const input = { buyers: buyerIds.map((b) => `acct-${b}`), devices, intervalMs, minPrice, maxPrice: minPrice + spread, seed };
          const plan = planMarket(input);
          expect(planMarket(input)).toEqual(plan);
          const sides = new Map<string, Set<string>>();
          for (const o of plan) {
            expect(o.volumeWh).toBeGreaterThanOrEqual(1n);
            expect(o.price >= minPrice && o.price <= minPrice + spread).toBe(true);
            sides.set(o.account, (sides.get(o.account) ?? new Set()).add(o.side));
            if (o.side === 'ask') {
              const d = devices.find((x) => x.id === o.deviceId)!;
              expect(d.owner).toBe(o.account);
              expect(o.volumeWh).toBeLessThanOrEqual(exportLimitWh(d.maxExportW, intervalMs));
            } else expect(o.deviceId).toBeUndefined();
          }
          for (const s of sides.values()) expect(s.size).toBe(1);
          // Every device that can deliver a Wh offers it; every buyer that owns none bids.
          expect(plan.filter((o) => o.side === 'ask').length).toBe(devices.filter((d) => exportLimitWh(d.maxExportW, intervalMs) >= 1n).length);
          expect(plan.filter((o) => o.side === 'bid').map((o) => o.account)).toEqual(input.buyers.filter((b) => !devices.some((d) => d.owner === b)));
        },
      ),
    );
  });

  it('picks the first market whose gate closes at least the margin from now', () => {
    // 30 s intervals, gate 5 s before: at 12:00:21 with a 3 s margin, 12:00:30's gate (12:00:25) is 4 s away.
    const t = Date.UTC(2026, 0, 1, 12, 0, 21);
    expect(nextOpenInterval(t, 30_000, 5_000, 3_000)).toBe(Date.UTC(2026, 0, 1, 12, 0, 30));
    // With 5 s of margin it is too close: the next one.
    expect(nextOpenInterval(t, 30_000, 5_000, 5_000)).toBe(Date.UTC(2026, 0, 1, 12, 1, 0));
  });
});
