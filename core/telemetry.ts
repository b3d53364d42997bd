import type { BlockEvent } from './block.ts';
import { utf8 } from './bytes.ts';
import { readBytes, type Encodable } from './codec.ts';
import { checkDeviceId, isDeviceId, MAX_DEVICE_ID_LENGTH } from './device.ts';
import { Domain } from './domain.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { BLS_SIGNATURE_LENGTH } from './keys.ts';

/**
 * Meter telemetry: one reading of one device, as the device contract defines it
 * (../shared/reference/device-contract.md, DeviceTelemetry), and the exact bytes a device
 * signs.
 *
 * Units: timestampUs is Unix time in microseconds; netEnergyWh is the signed energy delta
 * since the device's previous reading, in Wh, + import, - export. Both are int64 on the
 * wire and bigint here, so no value of the contract is ever rounded.
 */
export interface Reading {
  readonly deviceId: string;
  readonly timestampUs: bigint;
  readonly netEnergyWh: bigint;
  /** Battery / V2G state of charge, 0..100; 0 for devices without storage. Not signed. */
  readonly stateOfChargePercent: number;
}

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const TELEMETRY_TAG = Domain.telemetry;

const TAG_BYTES = utf8(Domain.telemetry);

/**
 * The fixed binary layout a device signs (BLS12-381 min-pk, the POP ciphersuite DST of
 * core/keys.ts), written so a C programmer can produce it without a msgpack library:
 *
 *   u16be(len tag)      || tag      ASCII "JOULE/telemetry/v1"
 *   u16be(len chainId)  || chainId  UTF-8
 *   u16be(len deviceId) || deviceId ASCII ([A-Za-z0-9._:-], 1..64 bytes)
 *   i64be(timestamp_us)            two's complement, big-endian
 *   i64be(net_energy_wh)           two's complement, big-endian
 *
 * README.md "Device telemetry" has a worked example, checked by telemetry.test.ts.
 */
export function telemetrySigningBytes(chainId: string, deviceId: string, timestampUs: bigint, netEnergyWh: bigint): Uint8Array {
  checkDeviceId(deviceId, 'deviceId');
  checkInt64(timestampUs, 'timestampUs');
  checkInt64(netEnergyWh, 'netEnergyWh');
  const chain = utf8(chainId);
  if (chain.length > 0xffff) throw new JouleError(ErrorCode.TX_INVALID_FIELD, 'chain id is too long', 'chainId');
  const device = utf8(deviceId);
  const out = new Uint8Array(2 + TAG_BYTES.length + 2 + chain.length + 2 + device.length + 16);
  const view = new DataView(out.buffer);
  let o = 0;
  for (const part of [TAG_BYTES, chain, device]) {
    view.setUint16(o, part.length);
    out.set(part, o + 2);
    o += 2 + part.length;
  }
  view.setBigInt64(o, timestampUs);
  view.setBigInt64(o + 8, netEnergyWh);
  return out;
}

/** telemetrySigningBytes of one reading. */
export function readingSigningBytes(chainId: string, r: Reading): Uint8Array {
  return telemetrySigningBytes(chainId, r.deviceId, r.timestampUs, r.netEnergyWh);
}

function checkInt64(v: unknown, field: string): bigint {
  if (typeof v !== 'bigint' || v < INT64_MIN || v > INT64_MAX) throw new JouleError(ErrorCode.TX_INVALID_FIELD, 'must be a 64-bit signed integer', field);
  return v;
}

/**
 * Every rule of a reading that needs no state; throws `code` (TX_INVALID_FIELD in a tx
 * body, INVALID_PARAMS for JSON input) naming `${path}.field`.
 */
export function checkReading(r: Reading, path = 'reading', code: ErrorCode = ErrorCode.TX_INVALID_FIELD): void {
  const bad = (field: string, why: string) => new JouleError(code, why, `${path}.${field}`);
  if (!isDeviceId(r.deviceId)) throw bad('deviceId', 'must be 1-64 characters of letters, digits, ".", "_", ":" or "-"');
  if (typeof r.timestampUs !== 'bigint' || r.timestampUs <= 0n || r.timestampUs > INT64_MAX)
    throw bad('timestampUs', 'must be a positive 64-bit Unix time in microseconds');
  if (typeof r.netEnergyWh !== 'bigint' || r.netEnergyWh < INT64_MIN || r.netEnergyWh > INT64_MAX) throw bad('netEnergyWh', 'must be a 64-bit signed integer');
  const soc = r.stateOfChargePercent;
  if (typeof soc !== 'number' || !Number.isInteger(soc) || soc < 0 || soc > 100) throw bad('stateOfChargePercent', 'must be an integer percentage, 0..100');
}

/** Wire form inside a tx body (canonical codec): [deviceId, timestampUs, netEnergyWh, stateOfChargePercent]. */
export function readingToWire(r: Reading): Encodable[] {
  checkReading(r);
  return [r.deviceId, r.timestampUs, r.netEnergyWh, r.stateOfChargePercent];
}

/** The integer a decoded field holds, as bigint; throws CODEC_WRONG_TYPE naming `field`. */
function readInt(v: Encodable, field: string): bigint {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'bigint') return v;
  throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, 'expected integer', field);
}

/** Reads a decoded reading (readingToWire's form); throws CODEC_* or TX_INVALID_FIELD naming `${path}.field`. */
export function readingFromWire(v: Encodable, path: string): Reading {
  if (!Array.isArray(v) || v.length !== 4) throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, 'expected array of 4 fields', path);
  const [id, ts, wh, soc] = v as Encodable[];
  if (typeof id !== 'string' || id.length > MAX_DEVICE_ID_LENGTH) throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, 'expected string', `${path}.deviceId`);
  const r: Reading = {
    deviceId: id,
    timestampUs: readInt(ts!, `${path}.timestampUs`),
    netEnergyWh: readInt(wh!, `${path}.netEnergyWh`),
    stateOfChargePercent: Number(readInt(soc!, `${path}.stateOfChargePercent`)),
  };
  checkReading(r, path);
  return r;
}

/** A reading's BLS signature as carried on the wire; checks the length only (validity is verification's). */
export function readReadingSignature(v: Encodable, field: string): Uint8Array {
  return readBytes(v, field, BLS_SIGNATURE_LENGTH);
}

// ---- JSON input (RPC, CLI files): decimal strings or safe integers for the int64 fields ----

const INT_TEXT = /^-?(0|[1-9][0-9]{0,18})$/;

function jsonInt64(v: unknown, field: string): bigint {
  let n: bigint | undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
  else if (typeof v === 'string' && INT_TEXT.test(v)) n = BigInt(v);
  if (n === undefined || n < INT64_MIN || n > INT64_MAX) {
    throw new JouleError(ErrorCode.INVALID_PARAMS, 'must be a 64-bit integer (a decimal string, or a safe integer)', field);
  }
  return n;
}

/**
 * A reading from JSON `{deviceId, timestampUs, netEnergyWh, stateOfChargePercent?}`;
 * throws INVALID_PARAMS naming `${path}.field` (unknown fields too).
 */
export function parseReadingJson(v: unknown, path = 'reading'): Reading {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new JouleError(ErrorCode.INVALID_PARAMS, 'must be an object', path);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['deviceId', 'timestampUs', 'netEnergyWh', 'stateOfChargePercent', 'signature'].includes(k))
      throw new JouleError(ErrorCode.INVALID_PARAMS, 'unknown field', `${path}.${k}`);
  }
  const r: Reading = {
    deviceId: o.deviceId as string,
    timestampUs: jsonInt64(o.timestampUs, `${path}.timestampUs`),
    netEnergyWh: jsonInt64(o.netEnergyWh, `${path}.netEnergyWh`),
    stateOfChargePercent: (o.stateOfChargePercent ?? 0) as number,
  };
  checkReading(r, path, ErrorCode.INVALID_PARAMS);
  return r;
}

/** JSON form of a reading: int64 fields as decimal strings. */
export function readingToJson(r: Reading): { deviceId: string; timestampUs: string; netEnergyWh: string; stateOfChargePercent: number } {
  return { deviceId: r.deviceId, timestampUs: r.timestampUs.toString(), netEnergyWh: r.netEnergyWh.toString(), stateOfChargePercent: r.stateOfChargePercent };
}

/**
 * The event a successful telemetry batch emits for each device whose readings it did not
 * count (vm/telemetry/batch.ts): attributes `device`, `reason` (an ErrorCode) and `readings`.
 */
export const READINGS_SKIPPED_EVENT = 'telemetry-skipped';

/** A batch's receipt events -> each device whose readings it skipped, with the reason. */
export function skippedDevices(events: readonly BlockEvent[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of events) {
    if (e.type !== READINGS_SKIPPED_EVENT) continue;
    const device = e.attributes.find(([k]) => k === 'device')?.[1];
    const reason = e.attributes.find(([k]) => k === 'reason')?.[1];
    if (device !== undefined && reason !== undefined) out.set(device, reason);
  }
  return out;
}
