import type { DeviceRecord } from '../../core/device.ts';
import { WATT_MICROSECONDS_PER_WH, type MeterCursor } from '../../core/meter.ts';
import type { Reading } from '../../core/telemetry.ts';

/**
 * How much energy a reading may carry: |net_energy_wh| within what the device's power
 * limit (maxImportW for + import, maxExportW for - export) allows over the time since its
 * previous reading on chain, P x Δt, counted exactly in W·µs (1 Wh = 3.6e9 W·µs).
 *
 * A meter's register counts whole Wh, so a reading may show up to 1 Wh more than its own
 * span allows (the register crossed a Wh boundary early). That slack is a carry, not a
 * gift per reading: what a reading leaves unused is carried to the next, capped at 1 Wh,
 * per direction. So no sequence of readings claims more than P x (total time) + 1 Wh, and
 * a burst of readings a microsecond apart cannot add a Wh each.
 *
 * A device's first reading on chain has no previous one: it may carry one settlement
 * interval's worth at full power (plus the 1 Wh), so a meter that starts mid-interval
 * reports what it measured since the interval began.
 */

const CAP = BigInt(WATT_MICROSECONDS_PER_WH);

export interface AllowanceResult {
  /** False: the reading carries more energy than the device could have moved. */
  readonly possible: boolean;
  /** The most Wh the reading could have carried in its direction (rounded down). */
  readonly allowedWh: bigint;
  /** The cursor after the reading (meaningful only when possible), its open interval as before. */
  readonly cursor: MeterCursor;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);

export function readingAllowance(
  prev: MeterCursor | undefined,
  r: Reading,
  device: Pick<DeviceRecord, 'maxImportW' | 'maxExportW'>,
  settlementIntervalMs: number,
): AllowanceResult {
  const elapsedUs = prev === undefined ? BigInt(settlementIntervalMs) * 1000n : r.timestampUs - prev.lastTimestampUs;
  const importBudget = BigInt(prev?.importCarry ?? WATT_MICROSECONDS_PER_WH) + BigInt(device.maxImportW) * elapsedUs;
  const exportBudget = BigInt(prev?.exportCarry ?? WATT_MICROSECONDS_PER_WH) + BigInt(device.maxExportW) * elapsedUs;
  const need = (r.netEnergyWh < 0n ? -r.netEnergyWh : r.netEnergyWh) * CAP;
  const importUse = r.netEnergyWh > 0n ? need : 0n;
  const exportUse = r.netEnergyWh < 0n ? need : 0n;
  const budget = r.netEnergyWh < 0n ? exportBudget : importBudget;
  return {
    possible: need <= budget,
    allowedWh: budget / CAP,
    cursor: {
      lastTimestampUs: r.timestampUs,
      importCarry: Number(importUse <= importBudget ? min(importBudget - importUse, CAP) : 0n),
      exportCarry: Number(exportUse <= exportBudget ? min(exportBudget - exportUse, CAP) : 0n),
      open: prev?.open,
    },
  };
}
