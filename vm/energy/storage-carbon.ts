import { MAX_CARBON_INTENSITY } from '../../core/device.ts';
import { getGridIntensity, getLatestGridIntensity, gridIntensityKey, gridIntensityLatestKey, type StorageCarbon } from '../../state/energy.ts';
import type { StateReader } from '../../state/overlay.ts';

/**
 * Storage does not launder carbon: a battery or EV charger exports energy whose carbon
 * intensity is the weighted intensity of what charged it, not its declared figure.
 *
 * Each storage device has a pool (state/energy.ts StorageCarbon): the Wh charged and not
 * yet exported, and the carbon they carry in mg CO2e (Wh x g/kWh = mg, so grid imports add
 * exactly importWh x gridIntensity; no division on the way in). Within one interval the
 * imports enter the pool before the exports leave it (the interval's readings are summed,
 * their order is gone).
 *
 * Rounding rule (integers only; both roundings are up, so exported energy never looks
 * cleaner than what charged it):
 * - an export of E Wh covered by the pool takes removedMg = ceil(carbonMg x covered / storedWh)
 *   with it, where covered = min(E, storedWh); removedMg <= carbonMg, so the pool never goes
 *   negative;
 * - energy beyond what the pool holds (charged before registration, meter drift) is
 *   counted at the zone's grid intensity of the exporting interval, as if drawn from the
 *   grid then;
 * - the UTXO's intensity is ceil(total mg / E) g/kWh.
 * Round-trip losses stay in the pool with their carbon, so the pool's average (what later
 * exports carry) is unchanged by them.
 */

/**
 * A pool holds at most this (100 GWh, some 50 times the largest battery built); a larger
 * one is scaled down keeping its average, so carbonMg stays below 2^63 whatever a meter reports.
 */
export const MAX_POOL_WH = 10n ** 14n;

/**
 * The intensity of grid energy in a zone for which no oracle has ever posted a figure:
 * the worst case, so an unknown grid never makes stored energy look clean.
 */
export const UNKNOWN_GRID_INTENSITY = MAX_CARBON_INTENSITY;

/**
 * A zone's grid intensity for the interval starting at `intervalStartMs`: the oracle's
 * post for that interval; else the zone's most recent post (of any interval); else
 * UNKNOWN_GRID_INTENSITY.
 */
export function gridIntensityAt(state: StateReader, zone: string, intervalStartMs: number): number {
  return (getGridIntensity(state, zone, intervalStartMs) ?? getLatestGridIntensity(state, zone))?.carbonIntensity ?? UNKNOWN_GRID_INTENSITY;
}

/** The keys gridIntensityAt reads (for access lists). */
export function gridIntensityReadKeys(zone: string, intervalStartMs: number): Uint8Array[] {
  return [gridIntensityKey(zone, intervalStartMs), gridIntensityLatestKey(zone)];
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/** The pool after charging `importWh` at `gPerKwh`. */
export function charge(pool: StorageCarbon, importWh: bigint, gPerKwh: number): StorageCarbon {
  let storedWh = pool.storedWh + importWh;
  let carbonMg = pool.carbonMg + importWh * BigInt(gPerKwh);
  if (storedWh > MAX_POOL_WH) {
    carbonMg = ceilDiv(carbonMg * MAX_POOL_WH, storedWh);
    storedWh = MAX_POOL_WH;
  }
  return { storedWh, carbonMg };
}

export interface Discharge {
  readonly pool: StorageCarbon;
  /** g CO2e/kWh of the exported energy (ceil). */
  readonly carbonIntensity: number;
}

/** Exports `exportWh` (> 0) from the pool; what the pool does not cover counts at `uncoveredGPerKwh`. */
export function discharge(pool: StorageCarbon, exportWh: bigint, uncoveredGPerKwh: number): Discharge {
  const covered = exportWh < pool.storedWh ? exportWh : pool.storedWh;
  const removedMg = covered === 0n ? 0n : ceilDiv(pool.carbonMg * covered, pool.storedWh);
  const totalMg = removedMg + (exportWh - covered) * BigInt(uncoveredGPerKwh);
  const intensity = ceilDiv(totalMg, exportWh);
  return {
    pool: { storedWh: pool.storedWh - covered, carbonMg: pool.carbonMg - removedMg },
    // Every part is at most MAX_CARBON_INTENSITY per Wh, so the ceiling is too.
    carbonIntensity: Number(intensity),
  };
}
