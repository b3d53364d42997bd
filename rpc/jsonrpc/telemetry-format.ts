/**
 * JSON shapes of telemetry queries (docs/json-rpc.md: Readings, IntervalTotals, DeviceHealth).
 * Pure, like json-format.ts: no lookups, testable from plain values.
 */
import type { IntervalEnergy, IntervalTotals } from '../../core/meter.ts';
import type { DeviceHealthJson, IntervalEnergyJson, IntervalTotalsJson, ReadingJson } from '../../core/rpc-json.ts';
import { deviceHealthKey, intervalTotalsKey } from '../../core/state-keys.ts';
import { hex } from './json-format.ts';
import type { DeviceHealthView, ReadingView } from '../node-api.ts';

export function formatReading(r: ReadingView): ReadingJson {
  return {
    deviceId: r.deviceId,
    timestampUs: r.timestampUs.toString(),
    netEnergyWh: r.netEnergyWh.toString(),
    stateOfChargePercent: r.stateOfChargePercent,
    height: r.height,
  };
}

export function formatIntervalTotals(t: IntervalTotals, settlementIntervalMs: number): IntervalTotalsJson {
  return {
    deviceId: t.deviceId,
    intervalStartMs: t.intervalStartMs,
    intervalEndMs: t.intervalStartMs + settlementIntervalMs,
    readings: t.readings,
    importWh: t.importWh.toString(),
    exportWh: t.exportWh.toString(),
    netEnergyWh: (t.importWh - t.exportWh).toString(),
    status: t.status,
    mintedWh: t.mintedWh?.toString() ?? null,
    utxo: t.utxoId === undefined ? null : hex(t.utxoId),
    checkMeter:
      t.check === undefined
        ? null
        : { deviceId: t.check.deviceId, readings: t.check.readings, importWh: t.check.importWh.toString(), exportWh: t.check.exportWh.toString() },
    stateKey: hex(intervalTotalsKey(t.deviceId, t.intervalStartMs)),
  };
}

const energy = (e: IntervalEnergy | undefined): IntervalEnergyJson | null =>
  e === undefined ? null : { intervalStartMs: e.intervalStartMs, importWh: e.importWh.toString(), exportWh: e.exportWh.toString() };

export function formatDeviceHealth(v: DeviceHealthView): DeviceHealthJson {
  const { device, health } = v;
  return {
    device: device.id,
    status: device.status,
    inDispatch: device.status === 'active',
    flaggedForInspection: device.status === 'flagged-for-inspection',
    missedIntervals: health.missed,
    lastReportedMs: health.lastReportedMs ?? null,
    lastReadingUs: v.lastReadingUs?.toString() ?? null,
    lastVerified: energy(health.lastVerified),
    estimate: energy(health.estimate),
    flaggedAtMs: health.flaggedAtMs ?? null,
    stateKey: hex(deviceHealthKey(device.id)),
  };
}
