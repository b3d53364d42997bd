import { mintedUtxoId } from '../../core/energy.ts';
import { INTERVAL_TOTALS_KEPT } from '../../core/meter.ts';
import type { EnergyParams } from '../../core/params.ts';
import { deviceHealthKey, deviceKey, energyUtxoKey, intervalTotalsKey, meterCursorKey } from '../../core/state-keys.ts';
import type { CheckMeterResolutionBody } from '../../core/tx/check-meter-resolution.ts';
import type { TelemetryBatchBody } from '../../core/tx/telemetry-batch.ts';
import { checkMeterIndexPrefix } from '../../state/devices.ts';
import type { QueuedClose } from '../../state/telemetry.ts';
import { mintReadKeys } from '../energy/mint.ts';

/**
 * What telemetry reads, named before it runs (the access lists of state/'s flat state):
 * every key follows from a tx's body, or for the close from the queued entries it closes,
 * never from other state, so a node can load it all before the block executes.
 */

export interface ReadSet {
  readonly keys: readonly Uint8Array[];
  readonly prefixes: readonly Uint8Array[];
}

/** Type 20 reads each device's record and cursor (and the sender's account, always read). */
export function telemetryBatchKeys(body: TelemetryBatchBody): Uint8Array[] {
  const ids = [...new Set(body.readings.map((r) => r.deviceId))];
  return ids.flatMap((id) => [deviceKey(id), meterCursorKey(id)]);
}

/** Type 27 reads the interval's totals and its frozen UTXO. */
export function checkMeterResolutionKeys(body: CheckMeterResolutionBody): Uint8Array[] {
  return [intervalTotalsKey(body.deviceId, body.intervalStartMs), energyUtxoKey(mintedUtxoId(body.deviceId, body.intervalStartMs))];
}

/** What closing one queued (interval, device) reads: vm/telemetry/close.ts, entry by entry. */
export function closeReads(q: QueuedClose, p: Pick<EnergyParams, 'settlementIntervalMs'>): ReadSet {
  const { deviceId: d, intervalStartMs: I, item } = q;
  // A watch reads the record and the health; a watch it queues for an interval already due is closed in the same block and reads the same.
  if (!item.reported) return { keys: [deviceKey(d), deviceHealthKey(d)], prefixes: [] };
  const keys = [deviceKey(d), meterCursorKey(d), intervalTotalsKey(d, I), deviceHealthKey(d)];
  keys.push(intervalTotalsKey(d, I - INTERVAL_TOTALS_KEPT * p.settlementIntervalMs));
  if (item.checkMeter !== undefined) keys.push(meterCursorKey(item.checkMeter), intervalTotalsKey(item.checkMeter, I));
  if (item.kind !== undefined && item.zone !== undefined) keys.push(...mintReadKeys({ id: d, kind: item.kind, zone: item.zone }, I));
  return { keys, prefixes: [checkMeterIndexPrefix(d)] };
}
