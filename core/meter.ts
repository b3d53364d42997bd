import { decode, encode, readAmount, readArray, readBool, readBytes, readString, readUint, type Encodable } from './codec.ts';
import { deviceKindFromId, deviceKindId, MAX_DEVICE_ID_LENGTH, MAX_ZONE_LENGTH, type DeviceKind } from './device.ts';
import { ErrorCode, JouleError } from './errors.ts';

/**
 * What telemetry leaves on chain (StatePrefix.telemetry, core/state-keys.ts
 * TelemetryBucket): a cursor per device (its last reading, so none counts twice), metered
 * totals per (device, settlement interval), the interval-close queue, and each device's
 * health (missing data). Records, their canonical encodings and the interval arithmetic
 * every part shares; the rules that write them are vm/telemetry/'s.
 */

/** µs in one hour: 1 Wh = 1 W x 3.6e9 µs, so energy allowances are counted in W·µs. */
export const WATT_MICROSECONDS_PER_WH = 3_600_000_000;

/** Interval totals kept per device, newest first; the close of interval I deletes I - 96 intervals (one day of 15-minute intervals). */
export const INTERVAL_TOTALS_KEPT = 96;

/** The interval a device's readings are accumulating into, kept in its cursor until the next interval begins or it closes. */
export interface OpenInterval {
  readonly intervalStartMs: number;
  readonly readings: number;
  readonly importWh: bigint;
  readonly exportWh: bigint;
}

/**
 * A device's telemetry on chain, all a batch reads of it besides its record: its last
 * reading (the next must be later), its energy carry, and the interval its readings are
 * accumulating into. When a reading falls in a later interval, the open one is written out
 * as IntervalTotals and the new one opens; the close takes it from here if still open.
 */
export interface MeterCursor {
  readonly lastTimestampUs: bigint;
  /** Unused import allowance carried to the next reading, W·µs, at most 1 Wh (vm/telemetry/allowance.ts). */
  readonly importCarry: number;
  readonly exportCarry: number;
  readonly open: OpenInterval | undefined;
}

export const INTERVAL_STATUSES = ['open', 'closed', 'frozen', 'resolved'] as const;
/**
 * open: readings still accumulate (or the close has not reached it); closed: minted (or,
 * for a check meter, compared); frozen: minted frozen, the device and its check meter
 * disagree, awaiting a dso's resolution; resolved: a dso accepted a value.
 */
export type IntervalStatus = (typeof INTERVAL_STATUSES)[number];

/** A check meter's totals for the same interval, as compared at close. */
export interface CheckTotals {
  readonly deviceId: string;
  readonly readings: number;
  readonly importWh: bigint;
  readonly exportWh: bigint;
}

export interface IntervalTotals {
  readonly deviceId: string;
  readonly intervalStartMs: number;
  /** The device's own readings counted in the interval. */
  readonly readings: number;
  /** Gross Wh imported (sum of positive readings) and exported (sum of negative ones, as positive). */
  readonly importWh: bigint;
  readonly exportWh: bigint;
  readonly status: IntervalStatus;
  /** Wh minted at close (net export; for a frozen interval, as minted frozen), then the accepted value once resolved. */
  readonly mintedWh: bigint | undefined;
  /** The minted UTXO's id, if any. */
  readonly utxoId: Uint8Array | undefined;
  /** The check meter's totals when it reported the interval too (compared at close). */
  readonly check: CheckTotals | undefined;
}

/**
 * One entry of the close queue: the close of (interval, device) to do once the interval is
 * settled. What the close needs of the device besides its record is taken at the interval's
 * first reading, so the close's reads follow from the queue alone (its access list), and
 * the energy's provenance is the device's kind and zone when it was produced.
 */
export interface CloseItem {
  /** The device's check meter when the interval's first reading arrived. */
  readonly checkMeter: string | undefined;
  /** True: the device reported the interval; false: a watch for missing data (no readings). */
  readonly reported: boolean;
  /** Reported intervals: the device's kind and zone at the first reading. */
  readonly kind?: DeviceKind;
  readonly zone?: string;
}

/** An interval's energy, net: import and export, at most one of them above zero. */
export interface IntervalEnergy {
  readonly intervalStartMs: number;
  readonly importWh: bigint;
  readonly exportWh: bigint;
}

export interface DeviceHealth {
  /** Consecutive settled intervals without readings since the last one with readings. */
  readonly missed: number;
  /** Start of the last interval the device reported. */
  readonly lastReportedMs: number | undefined;
  /** The last interval closed not frozen: the basis of the estimate. */
  readonly lastVerified: IntervalEnergy | undefined;
  /**
   * After missedIntervalsDerate missed intervals: the dispatchable capacity estimated from
   * lastVerified, de-rated by derateBps; for the interval it was made at. Never minted.
   */
  readonly estimate: IntervalEnergy | undefined;
  /** The interval start at whose close missing data flagged the device (it left dispatch). */
  readonly flaggedAtMs: number | undefined;
}

export const EMPTY_HEALTH: DeviceHealth = { missed: 0, lastReportedMs: undefined, lastVerified: undefined, estimate: undefined, flaggedAtMs: undefined };

const corrupt = (field: string, why: string) => new JouleError(ErrorCode.CODEC_WRONG_TYPE, why, field);

function readInt64(v: Encodable, field: string): bigint {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'bigint') return v;
  throw corrupt(field, 'expected integer');
}

const opt = <T>(v: Encodable | undefined, read: (v: Encodable) => T): T | undefined => (v === null || v === undefined ? undefined : read(v));

// ---- cursor: [lastTimestampUs, importCarry, exportCarry, [intervalStartMs, readings, importWh, exportWh] | nil] ----

export function encodeMeterCursor(c: MeterCursor): Uint8Array {
  const open = c.open === undefined ? null : [c.open.intervalStartMs, c.open.readings, c.open.importWh, c.open.exportWh];
  return encode([c.lastTimestampUs, c.importCarry, c.exportCarry, open]);
}

export function decodeMeterCursor(bytes: Uint8Array): MeterCursor {
  const f = readArray(decode(bytes, 'cursor'), 'cursor', 4);
  const open = opt(f[3], (v) => {
    const o = readArray(v, 'cursor.open', 4);
    return {
      intervalStartMs: readUint(o[0]!, 'cursor.open.intervalStartMs'),
      readings: readUint(o[1]!, 'cursor.open.readings'),
      importWh: readAmount(o[2]!, 'cursor.open.importWh'),
      exportWh: readAmount(o[3]!, 'cursor.open.exportWh'),
    };
  });
  return {
    lastTimestampUs: readInt64(f[0]!, 'cursor.lastTimestampUs'),
    importCarry: readUint(f[1]!, 'cursor.importCarry'),
    exportCarry: readUint(f[2]!, 'cursor.exportCarry'),
    open,
  };
}

/** The totals of a device's open interval, as an IntervalTotals record (status open). */
export function totalsOfOpen(deviceId: string, o: OpenInterval): IntervalTotals {
  return { ...openInterval(deviceId, o.intervalStartMs), readings: o.readings, importWh: o.importWh, exportWh: o.exportWh };
}

// ---- interval totals: [readings, importWh, exportWh, status, mintedWh | nil, utxoId | nil,
//      [checkDeviceId, readings, importWh, exportWh] | nil]; the key holds device and interval ----

export function encodeIntervalTotals(t: IntervalTotals): Uint8Array {
  const check = t.check === undefined ? null : [t.check.deviceId, t.check.readings, t.check.importWh, t.check.exportWh];
  return encode([t.readings, t.importWh, t.exportWh, INTERVAL_STATUSES.indexOf(t.status), t.mintedWh ?? null, t.utxoId ?? null, check]);
}

export function decodeIntervalTotals(bytes: Uint8Array, deviceId: string, intervalStartMs: number): IntervalTotals {
  const f = readArray(decode(bytes, 'totals'), 'totals', 7);
  const status = INTERVAL_STATUSES[readUint(f[3]!, 'totals.status')];
  if (status === undefined) throw corrupt('totals.status', 'unknown interval status');
  const check = opt(f[6], (v) => {
    const c = readArray(v, 'totals.check', 4);
    return {
      deviceId: readString(c[0]!, 'totals.check.deviceId', MAX_DEVICE_ID_LENGTH),
      readings: readUint(c[1]!, 'totals.check.readings'),
      importWh: readAmount(c[2]!, 'totals.check.importWh'),
      exportWh: readAmount(c[3]!, 'totals.check.exportWh'),
    };
  });
  return {
    deviceId,
    intervalStartMs,
    readings: readUint(f[0]!, 'totals.readings'),
    importWh: readAmount(f[1]!, 'totals.importWh'),
    exportWh: readAmount(f[2]!, 'totals.exportWh'),
    status,
    mintedWh: opt(f[4], (v) => readAmount(v, 'totals.mintedWh')),
    utxoId: opt(f[5], (v) => readBytes(v, 'totals.utxoId')),
    check,
  };
}

/** A fresh interval's totals (no readings yet). */
export function openInterval(deviceId: string, intervalStartMs: number): IntervalTotals {
  return { deviceId, intervalStartMs, readings: 0, importWh: 0n, exportWh: 0n, status: 'open', mintedWh: undefined, utxoId: undefined, check: undefined };
}

// ---- close item: [checkMeter | nil, reported, kind | nil, zone | nil] ----

export function encodeCloseItem(c: CloseItem): Uint8Array {
  return encode([c.checkMeter ?? null, c.reported, c.kind === undefined ? null : deviceKindId(c.kind), c.zone ?? null]);
}

export function decodeCloseItem(bytes: Uint8Array): CloseItem {
  const f = readArray(decode(bytes, 'closeItem'), 'closeItem', 4);
  const kind = opt(f[2], (v) => deviceKindFromId(readUint(v, 'closeItem.kind'), 'closeItem.kind'));
  const zone = opt(f[3], (v) => readString(v, 'closeItem.zone', MAX_ZONE_LENGTH));
  return {
    checkMeter: opt(f[0], (v) => readString(v, 'closeItem.checkMeter', MAX_DEVICE_ID_LENGTH)),
    reported: readBool(f[1]!, 'closeItem.reported'),
    ...(kind === undefined ? {} : { kind }),
    ...(zone === undefined ? {} : { zone }),
  };
}

// ---- health: [missed, lastReportedMs | nil, lastVerified | nil, estimate | nil, flaggedAtMs | nil];
//      an energy is [intervalStartMs, importWh, exportWh] ----

const energyToWire = (e: IntervalEnergy | undefined): Encodable => (e === undefined ? null : [e.intervalStartMs, e.importWh, e.exportWh]);

function energyFromWire(v: Encodable, field: string): IntervalEnergy {
  const f = readArray(v, field, 3);
  return {
    intervalStartMs: readUint(f[0]!, `${field}.intervalStartMs`),
    importWh: readAmount(f[1]!, `${field}.importWh`),
    exportWh: readAmount(f[2]!, `${field}.exportWh`),
  };
}

export function encodeDeviceHealth(h: DeviceHealth): Uint8Array {
  return encode([h.missed, h.lastReportedMs ?? null, energyToWire(h.lastVerified), energyToWire(h.estimate), h.flaggedAtMs ?? null]);
}

export function decodeDeviceHealth(bytes: Uint8Array): DeviceHealth {
  const f = readArray(decode(bytes, 'health'), 'health', 5);
  return {
    missed: readUint(f[0]!, 'health.missed'),
    lastReportedMs: opt(f[1], (v) => readUint(v, 'health.lastReportedMs')),
    lastVerified: opt(f[2], (v) => energyFromWire(v, 'health.lastVerified')),
    estimate: opt(f[3], (v) => energyFromWire(v, 'health.estimate')),
    flaggedAtMs: opt(f[4], (v) => readUint(v, 'health.flaggedAtMs')),
  };
}

// ---- arithmetic (integers only) ----

/** The start (ms) of the settlement interval holding a reading's timestamp: floor(ms / interval) x interval. */
export function intervalOf(timestampUs: bigint, settlementIntervalMs: number): number {
  const ms = timestampUs / 1000n;
  return Number(ms - (ms % BigInt(settlementIntervalMs)));
}

/** When the interval starting at `intervalStartMs` settles: the first block at or after this time (ms) closes it. */
export function settlesAt(intervalStartMs: number, p: { settlementIntervalMs: number; settlementDelayMs: number }): number {
  return intervalStartMs + p.settlementIntervalMs + p.settlementDelayMs;
}

/** The interval's net energy: import minus export, as (import, export) with at most one above zero. */
export function netEnergy(t: Pick<IntervalTotals, 'importWh' | 'exportWh'>): { importWh: bigint; exportWh: bigint } {
  const net = t.importWh - t.exportWh;
  return net >= 0n ? { importWh: net, exportWh: 0n } : { importWh: 0n, exportWh: -net };
}

/**
 * A device and its check meter disagree when their net energies differ by more than
 * `permille` per mille of the larger magnitude: |a - b| x 1000 > permille x max(|a|, |b|).
 */
export function metersDisagree(a: Pick<IntervalTotals, 'importWh' | 'exportWh'>, b: Pick<IntervalTotals, 'importWh' | 'exportWh'>, permille: number): boolean {
  const na = a.importWh - a.exportWh;
  const nb = b.importWh - b.exportWh;
  const abs = (x: bigint) => (x < 0n ? -x : x);
  const larger = abs(na) > abs(nb) ? abs(na) : abs(nb);
  return abs(na - nb) * 1000n > BigInt(permille) * larger;
}

/** `wh` de-rated by `bps` basis points, rounded down. */
export function derate(wh: bigint, bps: number): bigint {
  return (wh * BigInt(10_000 - bps)) / 10_000n;
}
