import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CARBON_INTENSITY } from '../../core/device.ts';
import { charge, discharge, MAX_POOL_WH } from './storage-carbon.ts';

describe('storage carbon arithmetic', () => {
  it('a pool past MAX_POOL_WH is scaled down keeping its average (rounded up)', () => {
    const p = charge({ storedWh: MAX_POOL_WH - 10n, carbonMg: (MAX_POOL_WH - 10n) * 200n }, 1000n, 800);
    expect(p.storedWh).toBe(MAX_POOL_WH);
    // average before scaling: (200 (MAX-10) + 800 000) / (MAX + 990), a hair above 200
    expect(p.carbonMg / p.storedWh).toBe(200n);
    expect(p.carbonMg).toBeGreaterThan(200n * MAX_POOL_WH);
  });

  it("never takes more carbon than the pool holds, never goes negative, never exports below the pool's average", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.integer({ min: 0, max: MAX_CARBON_INTENSITY }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.integer({ min: 0, max: MAX_CARBON_INTENSITY }),
        (stored, gPerKwh, exportWh, grid) => {
          const pool = { storedWh: stored, carbonMg: stored * BigInt(gPerKwh) };
          const d = discharge(pool, exportWh, grid);
          expect(d.pool.storedWh >= 0n && d.pool.carbonMg >= 0n).toBe(true);
          expect(d.carbonIntensity).toBeLessThanOrEqual(MAX_CARBON_INTENSITY);
          const covered = exportWh < stored ? exportWh : stored;
          // Total carbon leaving is at least the exact share: exported energy is never cleaner.
          expect(BigInt(d.carbonIntensity) * exportWh >= covered * BigInt(gPerKwh) + (exportWh - covered) * BigInt(grid)).toBe(true);
          expect(pool.carbonMg - d.pool.carbonMg <= pool.carbonMg).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});
