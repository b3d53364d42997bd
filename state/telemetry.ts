import { readU64be, utf8 } from '../core/bytes.ts';
import {
  decodeCloseItem,
  decodeDeviceHealth,
  decodeIntervalTotals,
  decodeMeterCursor,
  EMPTY_HEALTH,
  totalsOfOpen,
  encodeCloseItem,
  encodeDeviceHealth,
  encodeIntervalTotals,
  encodeMeterCursor,
  type CloseItem,
  type DeviceHealth,
  type IntervalTotals,
  type MeterCursor,
} from '../core/meter.ts';
import {
  CLOSE_QUEUE_PREFIX,
  closeQueueIntervalPrefix,
  closeQueueKey,
  deviceHealthKey,
  intervalTotalsKey,
  intervalTotalsPrefix,
  meterCursorKey,
} from '../core/state-keys.ts';
import { DecodedRecords } from './decoded.ts';
import type { Access } from './loaded-state.ts';
import { firstEntry, headEntries, type StateOverlay, type StateReader } from './overlay.ts';

/**
 * Telemetry's records (StatePrefix.telemetry, core/state-keys.ts TelemetryBucket):
 *
 *   0x12 0x01 ++ deviceId                                   -> MeterCursor (with the open interval)
 *   0x12 0x02 ++ u8(len deviceId) ++ deviceId ++ u64be(start) -> IntervalTotals (written when the next opens, or at close)
 *   0x12 0x03 ++ u64be(start) ++ deviceId ++ 0x00 ++ kind    -> CloseItem (the close queue; kind 0 reported, 1 watch)
 *   0x12 0x04 ++ deviceId                                    -> DeviceHealth
 *
 * The close queue's keys sort by (interval, device id), the order intervals are closed in.
 */

export { CLOSE_QUEUE_PREFIX, closeQueueKey, deviceHealthKey, intervalTotalsKey, meterCursorKey };

/** Read for every reading of every batch, at each of a batch's checks: decoded once per stored value (a few hundred bytes each in memory). */
const decodedCursors = new DecodedRecords(decodeMeterCursor, 16_384);

export function getMeterCursor(state: StateReader, deviceId: string): MeterCursor | undefined {
  const raw = state.get(meterCursorKey(deviceId));
  return raw === undefined ? undefined : decodedCursors.of(raw);
}

export function putMeterCursor(state: StateOverlay, deviceId: string, c: MeterCursor): void {
  state.set(meterCursorKey(deviceId), encodeMeterCursor(c));
}

export function getIntervalTotals(state: StateReader, deviceId: string, intervalStartMs: number): IntervalTotals | undefined {
  const raw = state.get(intervalTotalsKey(deviceId, intervalStartMs));
  return raw === undefined ? undefined : decodeIntervalTotals(raw, deviceId, intervalStartMs);
}

export function putIntervalTotals(state: StateOverlay, t: IntervalTotals): void {
  state.set(intervalTotalsKey(t.deviceId, t.intervalStartMs), encodeIntervalTotals(t));
}

export function deleteIntervalTotals(state: StateOverlay, deviceId: string, intervalStartMs: number): void {
  state.delete(intervalTotalsKey(deviceId, intervalStartMs));
}

/** A device's totals for an interval: its cursor's open interval, or the written record. */
export function intervalTotalsOf(state: StateReader, deviceId: string, intervalStartMs: number): IntervalTotals | undefined {
  const open = getMeterCursor(state, deviceId)?.open;
  return open?.intervalStartMs === intervalStartMs ? totalsOfOpen(deviceId, open) : getIntervalTotals(state, deviceId, intervalStartMs);
}

/** What listIntervalTotals reads for one page: the device's records from `fromMs` (at most `limit`) and its cursor. */
export function intervalTotalsAccess(deviceId: string, fromMs: number, limit: number): Access {
  return { keys: [meterCursorKey(deviceId)], ranges: [{ prefix: intervalTotalsPrefix(deviceId), from: intervalTotalsKey(deviceId, fromMs), limit }] };
}

/**
 * A device's interval totals with fromMs <= start <= toMs, ascending, at most `limit`: the
 * written records, then the interval still open in its cursor (always the latest).
 */
export function listIntervalTotals(state: StateReader, deviceId: string, fromMs: number, toMs: number, limit: number): IntervalTotals[] {
  const prefix = intervalTotalsPrefix(deviceId);
  const out: IntervalTotals[] = [];
  if (limit <= 0) return out;
  for (const [key, value] of state.iterate(prefix, intervalTotalsKey(deviceId, fromMs))) {
    const start = readU64be(key, prefix.length);
    if (start > toMs) break;
    out.push(decodeIntervalTotals(value, deviceId, start));
    if (out.length >= limit) return out;
  }
  const open = getMeterCursor(state, deviceId)?.open;
  if (open !== undefined && open.intervalStartMs >= fromMs && open.intervalStartMs <= toMs) out.push(totalsOfOpen(deviceId, open));
  return out;
}

export interface QueuedClose {
  readonly intervalStartMs: number;
  readonly deviceId: string;
  readonly item: CloseItem;
}

/**
 * Puts (interval, device) on the close queue: a reported interval, or a watch for missing
 * data (two keys, written without reading: a watch never overwrites what a device reported).
 */
export function putCloseItem(state: StateOverlay, intervalStartMs: number, deviceId: string, item: CloseItem): void {
  state.set(closeQueueKey(intervalStartMs, deviceId, !item.reported), encodeCloseItem(item));
}

export function hasCloseItem(state: StateReader, intervalStartMs: number, deviceId: string, watch = false): boolean {
  return state.get(closeQueueKey(intervalStartMs, deviceId, watch)) !== undefined;
}

export function deleteCloseItem(state: StateOverlay, q: QueuedClose): void {
  state.delete(closeQueueKey(q.intervalStartMs, q.deviceId, !q.item.reported));
}

function queuedFrom(key: Uint8Array, value: Uint8Array): QueuedClose {
  const o = CLOSE_QUEUE_PREFIX.length;
  return { intervalStartMs: readU64be(key, o), deviceId: Buffer.from(key.subarray(o + 8, key.length - 2)).toString('latin1'), item: decodeCloseItem(value) };
}

/**
 * The close queue's entries from its head while `due(intervalStartMs)` holds, at most
 * `limit`, reading no further: each entry's interval is read from its key, and only a due
 * entry's value is decoded. Most blocks close nothing, and the queue holds a watch or two
 * for every device: decoding the first `limit` of them to find none due cost about 2 % of
 * a validator's CPU under a fleet's telemetry.
 */
export function dueQueuedCloses(state: StateReader, limit: number, due: (intervalStartMs: number) => boolean): QueuedClose[] {
  const out: QueuedClose[] = [];
  for (const [key, value] of headEntries(state, CLOSE_QUEUE_PREFIX, limit)) {
    if (!due(readU64be(key, CLOSE_QUEUE_PREFIX.length))) break;
    out.push(queuedFrom(key, value));
  }
  return out;
}

/** The first entry of the close queue (the earliest interval, then the smallest device id). */
export function firstQueuedClose(state: StateReader): QueuedClose | undefined {
  const e = firstEntry(state, CLOSE_QUEUE_PREFIX);
  return e === undefined ? undefined : queuedFrom(e[0], e[1]);
}

/** The queued closes of one interval, in device id order. */
export function* queuedClosesOf(state: StateReader, intervalStartMs: number): IterableIterator<QueuedClose> {
  for (const [key, value] of state.iterate(closeQueueIntervalPrefix(intervalStartMs))) yield queuedFrom(key, value);
}

/** The device's health (EMPTY_HEALTH before anything was recorded). */
export function getDeviceHealth(state: StateReader, deviceId: string): DeviceHealth {
  const raw = state.get(deviceHealthKey(deviceId));
  return raw === undefined ? EMPTY_HEALTH : decodeDeviceHealth(raw);
}

export function putDeviceHealth(state: StateOverlay, deviceId: string, h: DeviceHealth): void {
  state.set(deviceHealthKey(deviceId), encodeDeviceHealth(h));
}

/** Device ids are ASCII: their key bytes are their characters. */
export function deviceIdBytes(deviceId: string): Uint8Array {
  return utf8(deviceId);
}
