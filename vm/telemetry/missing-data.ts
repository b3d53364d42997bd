import { derate, type DeviceHealth, type IntervalEnergy } from '../../core/meter.ts';
import type { EnergyParams } from '../../core/params.ts';

/**
 * Missing data (market-parameters.md "Fallback for missing meter data"), as transitions of
 * a device's health at each interval close, in close order:
 * - an interval with readings resets the count; if it closed not frozen it becomes the
 *   last verified interval;
 * - each settled interval without readings adds one. From missedIntervalsDerate on, the
 *   device's dispatchable capacity is estimated from its last verified interval de-rated
 *   by derateBps (never minted: an estimate, not a measurement); at missedIntervalsFlag it
 *   is flagged for inspection and leaves dispatch, and the chain stops counting until it
 *   reports again (after its operator reactivates it).
 * Only devices that reported once are watched, and only while active.
 */

export function afterReport(h: DeviceHealth, energy: IntervalEnergy, frozen: boolean): DeviceHealth {
  return { missed: 0, lastReportedMs: energy.intervalStartMs, lastVerified: frozen ? h.lastVerified : energy, estimate: undefined, flaggedAtMs: undefined };
}

export interface MissOutcome {
  readonly health: DeviceHealth;
  /** The device is to be flagged for inspection now. */
  readonly flag: boolean;
}

export function afterMiss(
  h: DeviceHealth,
  intervalStartMs: number,
  p: Pick<EnergyParams, 'missedIntervalsDerate' | 'missedIntervalsFlag' | 'derateBps'>,
): MissOutcome {
  const missed = h.missed + 1;
  if (missed >= p.missedIntervalsFlag) return { health: { ...h, missed, estimate: undefined, flaggedAtMs: intervalStartMs }, flag: true };
  const base = h.lastVerified;
  const estimate =
    missed >= p.missedIntervalsDerate && base !== undefined
      ? { intervalStartMs, importWh: derate(base.importWh, p.derateBps), exportWh: derate(base.exportWh, p.derateBps) }
      : h.estimate;
  return { health: { ...h, missed, estimate }, flag: false };
}
