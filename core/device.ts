import { decode, encode, readArray, readBytes, readString, readUint, type Encodable } from './codec.ts';
import { equalBytes } from './bytes.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { ADDRESS_LENGTH, BLS_PUBLIC_KEY_LENGTH } from './keys.ts';

/**
 * Registered devices: the vocabulary every part of the energy ledger shares (the vm's
 * device and telemetry handlers, state views, RPC, the CLI). A device is a meter or an
 * asset behind one (solar, wind, battery, EV charger / V2G, load) with a BLS12-381 key
 * that signs its readings (core/telemetry.ts).
 */

/** Device kinds; the wire form is the index, so the order is fixed and only ever appended to. */
export const DEVICE_KINDS = ['meter', 'solar', 'wind', 'battery', 'ev-charger', 'load'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/**
 * Device statuses (wire form: the index). `revoked` is final. `flagged-for-inspection` is
 * set by the chain (impossible energy, too many missed intervals); the operator clears it
 * by reactivating.
 */
export const DEVICE_STATUSES = ['active', 'suspended', 'revoked', 'flagged-for-inspection'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

/** 1..64 bytes of [A-Za-z0-9._:-] (ASCII, so characters are bytes). */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
export const MAX_DEVICE_ID_LENGTH = 64;
/** A grid zone (bidding zone, feeder, substation): 1..32 bytes of [A-Za-z0-9._:-]. */
export const ZONE_PATTERN = /^[A-Za-z0-9._:-]{1,32}$/;
export const MAX_ZONE_LENGTH = 32;
/** 10 GW: far above any single device, low enough that W x µs products stay well inside 2^127. */
export const MAX_POWER_W = 10_000_000_000;
/** g CO2e/kWh; lignite is about 1,100. */
export const MAX_CARBON_INTENSITY = 10_000;
/**
 * Re-keys a device may have in its life: the key history is kept whole (old readings stay
 * verifiable), so it must be bounded; a device needing more is registered anew.
 */
export const MAX_KEY_HISTORY = 64;

/** A key valid for readings included at heights >= fromHeight (until the next entry's fromHeight). */
export interface DeviceKey {
  readonly key: Uint8Array;
  readonly fromHeight: number;
}

export interface DeviceRecord {
  readonly id: string;
  /** The current BLS12-381 G1 public key (48 bytes): the last entry of keyHistory. */
  readonly publicKey: Uint8Array;
  /** Account that owns the device's energy (minted tokens go to it). */
  readonly owner: Uint8Array;
  /** Account (dso or aggregator) that manages the device and submits its telemetry. */
  readonly operator: Uint8Array;
  readonly kind: DeviceKind;
  readonly zone: string;
  readonly maxImportW: number;
  readonly maxExportW: number;
  /** Declared carbon intensity of its own generation, g CO2e/kWh. */
  readonly carbonIntensity: number;
  /** Id of the device's check meter, if any. */
  readonly checkMeter: string | undefined;
  readonly status: DeviceStatus;
  /** Every key the device has had, ascending fromHeight (strictly), at least one. */
  readonly keyHistory: readonly DeviceKey[];
}

const invalid = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, field);

export function isDeviceId(v: unknown): v is string {
  return typeof v === 'string' && DEVICE_ID_PATTERN.test(v);
}

export function isZone(v: unknown): v is string {
  return typeof v === 'string' && ZONE_PATTERN.test(v);
}

/** Throws TX_INVALID_FIELD naming `field` unless `v` is a device id. */
export function checkDeviceId(v: unknown, field: string): string {
  if (!isDeviceId(v)) throw invalid(field, 'must be 1-64 characters of letters, digits, ".", "_", ":" or "-"');
  return v;
}

export function checkZone(v: unknown, field: string): string {
  if (!isZone(v)) throw invalid(field, 'must be 1-32 characters of letters, digits, ".", "_", ":" or "-"');
  return v;
}

export function checkPowerW(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_POWER_W)
    throw invalid(field, `must be an integer number of watts, 0..${MAX_POWER_W}`);
  return v;
}

export function checkCarbonIntensity(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_CARBON_INTENSITY)
    throw invalid(field, `must be an integer g CO2e/kWh, 0..${MAX_CARBON_INTENSITY}`);
  return v;
}

export function deviceKindFromName(name: unknown, field: string): DeviceKind {
  if (typeof name !== 'string' || !(DEVICE_KINDS as readonly string[]).includes(name)) throw invalid(field, `must be one of ${DEVICE_KINDS.join(', ')}`);
  return name as DeviceKind;
}

export function deviceKindId(kind: DeviceKind): number {
  return DEVICE_KINDS.indexOf(kind);
}

export function deviceKindFromId(id: number, field: string): DeviceKind {
  const k = DEVICE_KINDS[id];
  if (k === undefined) throw invalid(field, `unknown device kind ${id}`);
  return k;
}

export function deviceStatusFromId(id: number, field: string): DeviceStatus {
  const s = DEVICE_STATUSES[id];
  if (s === undefined) throw invalid(field, `unknown device status ${id}`);
  return s;
}

/**
 * The key that signs readings included at `height`: the entry with the greatest
 * fromHeight <= height; undefined before the first (a device registered in block h has
 * its key from h + 1, see vm/README.md "Devices and governance"). A reading signed with a key rotated out
 * verifies with nothing: by its inclusion height its key is no longer this one.
 */
export function deviceKeyAt(record: Pick<DeviceRecord, 'keyHistory'>, height: number): Uint8Array | undefined {
  const h = record.keyHistory;
  for (let i = h.length - 1; i >= 0; i--) if (h[i]!.fromHeight <= height) return h[i]!.key;
  return undefined;
}

/** Active: may submit telemetry and have its energy minted. */
export function isDeviceActive(record: Pick<DeviceRecord, 'status'>): boolean {
  return record.status === 'active';
}

function checkKeyHistory(history: readonly DeviceKey[], field: string): void {
  if (history.length === 0 || history.length > MAX_KEY_HISTORY) throw invalid(field, `must hold 1..${MAX_KEY_HISTORY} keys`);
  for (let i = 0; i < history.length; i++) {
    const e = history[i]!;
    if (!(e.key instanceof Uint8Array) || e.key.length !== BLS_PUBLIC_KEY_LENGTH) throw invalid(`${field}[${i}].key`, `must be ${BLS_PUBLIC_KEY_LENGTH} bytes`);
    if (!Number.isSafeInteger(e.fromHeight) || e.fromHeight < 0) throw invalid(`${field}[${i}].fromHeight`, 'must be a non-negative integer');
    if (i > 0 && e.fromHeight <= history[i - 1]!.fromHeight) throw invalid(`${field}[${i}].fromHeight`, "must be greater than the previous entry's");
  }
}

const addr = (v: Uint8Array, field: string): void => {
  if (!(v instanceof Uint8Array) || v.length !== ADDRESS_LENGTH) throw invalid(field, `must be a ${ADDRESS_LENGTH}-byte address`);
};

/** Every rule of a record; throws TX_INVALID_FIELD naming `${path}.field`. */
export function checkDeviceRecord(r: DeviceRecord, path = 'device'): void {
  checkDeviceId(r.id, `${path}.id`);
  addr(r.owner, `${path}.owner`);
  addr(r.operator, `${path}.operator`);
  deviceKindFromName(r.kind, `${path}.kind`);
  checkZone(r.zone, `${path}.zone`);
  checkPowerW(r.maxImportW, `${path}.maxImportW`);
  checkPowerW(r.maxExportW, `${path}.maxExportW`);
  checkCarbonIntensity(r.carbonIntensity, `${path}.carbonIntensity`);
  if (r.checkMeter !== undefined) {
    checkDeviceId(r.checkMeter, `${path}.checkMeter`);
    if (r.checkMeter === r.id) throw invalid(`${path}.checkMeter`, 'a device cannot be its own check meter');
  }
  if (!(DEVICE_STATUSES as readonly string[]).includes(r.status)) throw invalid(`${path}.status`, `must be one of ${DEVICE_STATUSES.join(', ')}`);
  checkKeyHistory(r.keyHistory, `${path}.keyHistory`);
  if (!equalBytes(r.publicKey, r.keyHistory[r.keyHistory.length - 1]!.key)) throw invalid(`${path}.publicKey`, 'must be the last key of keyHistory');
}

/**
 * Wire form (canonical codec):
 * [id, owner, operator, kind, zone, maxImportW, maxExportW, carbonIntensity, checkMeter | nil,
 *  status, [[key, fromHeight]...]]
 * The current key is not stored apart: it is the last of the history.
 */
export function encodeDevice(r: DeviceRecord): Uint8Array {
  checkDeviceRecord(r);
  const wire: Encodable[] = [
    r.id,
    r.owner,
    r.operator,
    deviceKindId(r.kind),
    r.zone,
    r.maxImportW,
    r.maxExportW,
    r.carbonIntensity,
    r.checkMeter ?? null,
    DEVICE_STATUSES.indexOf(r.status),
    r.keyHistory.map((k) => [k.key, k.fromHeight]),
  ];
  return encode(wire);
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `device.*` (a stored record that fails is corrupt state). */
export function decodeDevice(bytes: Uint8Array): DeviceRecord {
  const f = readArray(decode(bytes, 'device'), 'device', 11);
  const history = readArray(f[10]!, 'device.keyHistory').map((e, i) => {
    const p = `device.keyHistory[${i}]`;
    const kv = readArray(e, p, 2);
    return { key: readBytes(kv[0]!, `${p}.key`, BLS_PUBLIC_KEY_LENGTH), fromHeight: readUint(kv[1]!, `${p}.fromHeight`) };
  });
  if (history.length === 0) throw invalid('device.keyHistory', 'must hold at least one key');
  const r: DeviceRecord = {
    id: readString(f[0]!, 'device.id', MAX_DEVICE_ID_LENGTH),
    owner: readBytes(f[1]!, 'device.owner', ADDRESS_LENGTH),
    operator: readBytes(f[2]!, 'device.operator', ADDRESS_LENGTH),
    kind: deviceKindFromId(readUint(f[3]!, 'device.kind'), 'device.kind'),
    zone: readString(f[4]!, 'device.zone', MAX_ZONE_LENGTH),
    maxImportW: readUint(f[5]!, 'device.maxImportW'),
    maxExportW: readUint(f[6]!, 'device.maxExportW'),
    carbonIntensity: readUint(f[7]!, 'device.carbonIntensity'),
    checkMeter: f[8] === null ? undefined : readString(f[8]!, 'device.checkMeter', MAX_DEVICE_ID_LENGTH),
    status: deviceStatusFromId(readUint(f[9]!, 'device.status'), 'device.status'),
    publicKey: history[history.length - 1]!.key,
    keyHistory: history,
  };
  checkDeviceRecord(r);
  return r;
}
