import { concatBytes, utf8, utf8Text } from '../core/bytes.ts';
import { decodeDevice, encodeDevice, type DeviceRecord } from '../core/device.ts';
import { DeviceBucket, deviceKey, StatePrefix } from '../core/state-keys.ts';
import { DecodedRecords } from './decoded.ts';
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

/** Device records are read for every reading of every batch, at each of a batch's checks: decoded once per stored value (about 1 KiB each in memory; 16 MiB at most). */
const decodedDevices = new DecodedRecords(decodeDevice, 16_384);

export function getDevice(state: StateReader, id: string): DeviceRecord | undefined {
  const raw = state.get(deviceKey(id));
  return raw === undefined ? undefined : decodedDevices.of(raw);
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

export interface DeviceListQuery {
  readonly operator?: Uint8Array;
  readonly zone?: string;
  readonly limit: number;
  /** List ids greater than this one. */
  readonly after?: string;
}

/**
 * What a listing reads first: the records themselves (no filter), or an index page, at
 * most the entries the page can use plus one (to know whether more follow). A node loads
 * this range, then the records the index page names (`indexedDeviceKeys`), then lists.
 */
export function deviceListRange(q: DeviceListQuery): { prefix: Uint8Array; from: Uint8Array | undefined; limit: number } {
  const prefix = q.operator !== undefined ? operatorIndexPrefix(q.operator) : q.zone !== undefined ? zoneIndexPrefix(q.zone) : DEVICE_RECORDS_PREFIX;
  // Ids are [A-Za-z0-9._:-]: no id holds 0x00, so prefix ++ after ++ 0x00 is the first key past `after`.
  const from = q.after === undefined ? undefined : concatBytes(prefix, utf8(q.after), new Uint8Array([0]));
  const limit = (q.operator !== undefined && q.zone !== undefined ? MAX_DEVICE_SCAN : q.limit) + 1;
  return { prefix, from, limit };
}

/** The record keys an index page (deviceListRange, loaded in `state`) names; none when the listing reads records directly. */
export function indexedDeviceKeys(state: StateReader, q: DeviceListQuery): Uint8Array[] {
  const { prefix, from, limit } = deviceListRange(q);
  if (prefix === DEVICE_RECORDS_PREFIX) return [];
  const keys: Uint8Array[] = [];
  for (const [key] of state.iterate(prefix, from)) {
    keys.push(deviceKey(utf8Text(key.subarray(prefix.length))));
    if (keys.length === limit) break;
  }
  return keys;
}

/** Index entries one listing reads at most when filtering by operator and zone together. */
export const MAX_DEVICE_SCAN = 1000;

/**
 * One page of devices in id order: all, one operator's or one zone's (from their index),
 * or one operator's in one zone (the operator's index, filtered: at most MAX_DEVICE_SCAN
 * entries read, so such a page may be short and still have a `next`). `next` is the id
 * to continue after, undefined when nothing follows.
 */
export function listDevices(state: StateReader, q: DeviceListQuery): { devices: DeviceRecord[]; next: string | undefined } {
  const { prefix, from } = deviceListRange(q);
  const filterZone = q.operator !== undefined ? q.zone : undefined;
  const devices: DeviceRecord[] = [];
  let scanned = 0;
  let lastId: string | undefined;
  for (const [key, value] of state.iterate(prefix, from)) {
    const id = utf8Text(key.subarray(prefix.length));
    if (devices.length === q.limit || scanned === MAX_DEVICE_SCAN) return { devices, next: lastId };
    scanned++;
    lastId = id;
    const record = prefix === DEVICE_RECORDS_PREFIX ? decodeDevice(value) : getDevice(state, id);
    if (record === undefined) continue; // putDevice writes both; a lone index entry would be a bug, not a device
    if (filterZone !== undefined && record.zone !== filterZone) continue;
    devices.push(record);
  }
  return { devices, next: undefined };
}
