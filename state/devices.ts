import { concatBytes, utf8 } from '../core/bytes.ts';
import { decodeDevice, encodeDevice, type DeviceRecord } from '../core/device.ts';
import { DeviceBucket, deviceKey, StatePrefix } from '../core/state-keys.ts';
import type { StateOverlay, StateReader } from './overlay.ts';

/**
 * Devices (typed view of StatePrefix.device, core/state-keys.ts DeviceBucket):
 *
 *   0x10 0x01 ++ deviceId                            -> the record (core/device.ts)
 *   0x10 0x02 ++ operator (20) ++ deviceId           -> 0x01   (one operator's devices, by id)
 *   0x10 0x03 ++ u8(len zone) ++ zone ++ deviceId    -> 0x01   (one zone's devices, by id)
 *   0x10 0x04 ++ u8(len meter) ++ meter ++ deviceId  -> 0x01   (the devices a check meter checks)
 *
 * The index entries follow the record: `putDevice` moves them when the operator or zone
 * changes, so a paged listing by operator or zone reads only what it returns.
 */

export { deviceKey };

const PRESENT = new Uint8Array([1]);

/** Every record key starts with this (ordered by id). */
export const DEVICE_RECORDS_PREFIX = new Uint8Array([StatePrefix.device, DeviceBucket.record]);

/** The prefix of one operator's index entries; the device id follows. */
export function operatorIndexPrefix(operator: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([StatePrefix.device, DeviceBucket.byOperator]), operator);
}

/** The prefix of the devices `checkMeter` is the check meter of (length-prefixed like zones); the device id follows. */
export function checkMeterIndexPrefix(checkMeter: string): Uint8Array {
  const m = utf8(checkMeter);
  return concatBytes(new Uint8Array([StatePrefix.device, DeviceBucket.byCheckMeter, m.length]), m);
}

/** True when some device names `id` as its check meter: its readings check another's, they are never minted. */
export function isCheckMeter(state: StateReader, id: string): boolean {
  for (const _ of state.iterate(checkMeterIndexPrefix(id))) return true;
  return false;
}

/** The prefix of one zone's index entries (length-prefixed, so zone "DE" is no prefix of "DE-LU"); the device id follows. */
export function zoneIndexPrefix(zone: string): Uint8Array {
  const z = utf8(zone);
  return concatBytes(new Uint8Array([StatePrefix.device, DeviceBucket.byZone, z.length]), z);
}

export function getDevice(state: StateReader, id: string): DeviceRecord | undefined {
  const raw = state.get(deviceKey(id));
  return raw === undefined ? undefined : decodeDevice(raw);
}

/** Writes a record; `previous` (the record as it was, if any) says which index entries to move. */
export function putDevice(state: StateOverlay, record: DeviceRecord, previous?: DeviceRecord): void {
  state.set(deviceKey(record.id), encodeDevice(record));
  const id = utf8(record.id);
  if (previous === undefined || !sameBytes(previous.operator, record.operator)) {
    if (previous !== undefined) state.delete(concatBytes(operatorIndexPrefix(previous.operator), id));
    state.set(concatBytes(operatorIndexPrefix(record.operator), id), PRESENT);
  }
  if (previous === undefined || previous.zone !== record.zone) {
    if (previous !== undefined) state.delete(concatBytes(zoneIndexPrefix(previous.zone), id));
    state.set(concatBytes(zoneIndexPrefix(record.zone), id), PRESENT);
  }
  if (previous?.checkMeter !== record.checkMeter) {
    if (previous?.checkMeter !== undefined) state.delete(concatBytes(checkMeterIndexPrefix(previous.checkMeter), id));
    if (record.checkMeter !== undefined) state.set(concatBytes(checkMeterIndexPrefix(record.checkMeter), id), PRESENT);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
