import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { activationTargetWh, flexEscrow, flexPayment, MAX_FLEX_ACTIVATION_MS, MAX_FLEX_KW, rampedEnergyWh } from './flex.ts';

/**
 * core/flex.ts rampedEnergyWh at the extremes an aggregator and a dso may choose (any power
 * and ramp rate 1..MAX_FLEX_KW, windows up to MAX_FLEX_ACTIVATION_MS): an activation's
 * per-interval targets are never negative, never above the flat power's energy (rounded
 * up), never fall while the fleet ramps, add up exactly to the window's energy, and their
 * payments never exceed the escrow taken for that energy.
 */

const kw = fc.oneof(fc.integer({ min: 1, max: MAX_FLEX_KW }), fc.constantFrom(1, 2, MAX_FLEX_KW - 1, MAX_FLEX_KW));
const interval = fc.constantFrom(1_000, 30_000, 900_000, 3_600_000);

describe('rampedEnergyWh: targets of an activation window', () => {
  it('property: per-interval targets are 0..ceil(flat), non-decreasing, sum to the window, paid within the escrow', () => {
    fc.assert(
      fc.property(kw, kw, interval, fc.integer({ min: 1, max: 96 }), fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }), (powerKw, rampUpKwPerMin, iv, n, price) => {
        const intervals = Math.min(n, Math.floor(MAX_FLEX_ACTIVATION_MS / iv));
        const startMs = 1_700_000_000_000 - (1_700_000_000_000 % iv);
        const flatCeil = (BigInt(powerKw) * BigInt(iv) + 3599n) / 3600n;
        let sum = 0n;
        let prev = 0n;
        let paidMax = 0n;
        for (let i = 0; i < intervals; i++) {
          const t = activationTargetWh({ powerKw, rampUpKwPerMin, startMs }, startMs + i * iv, iv);
          expect(t >= 0n).toBe(true);
          expect(t <= flatCeil).toBe(true);
          // Rounding at each end may take one Wh back once the power holds.
          expect(t + 1n >= prev).toBe(true);
          prev = t;
          sum += t;
          paidMax += flexPayment(t, price);
        }
        const window = rampedEnergyWh(powerKw, rampUpKwPerMin, 0, intervals * iv);
        expect(sum).toBe(window);
        expect(paidMax <= flexEscrow(window, price)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
