import { decode, encode, readArray, readBytes, readString, readUint, type Encodable } from '../codec.ts';
import { checkCarbonIntensity, checkDeviceId, checkPowerW, checkZone, MAX_DEVICE_ID_LENGTH, MAX_ZONE_LENGTH } from '../device.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import { ADDRESS_LENGTH } from '../keys.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/**
 * Type 17, change some of a device's settings. Wire form, nil = unchanged:
 * [id, zone | nil, maxImportW | nil, maxExportW | nil, carbonIntensity | nil,
 *  operator (20) | nil, checkMeter | "" (remove it) | nil]
 * At least one change; each field one encoding (a value, or nil).
 */
export interface DeviceUpdateBody {
  readonly id: string;
  readonly zone?: string;
  readonly maxImportW?: number;
  readonly maxExportW?: number;
  readonly carbonIntensity?: number;
  readonly operator?: Uint8Array;
  /** A device id to set, null to remove the check meter, undefined to leave it. */
  readonly checkMeter?: string | null;
}

const bad = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, `tx.body.${field}`);

function check(b: DeviceUpdateBody): void {
  checkDeviceId(b.id, 'tx.body.id');
  if (b.zone !== undefined) checkZone(b.zone, 'tx.body.zone');
  if (b.maxImportW !== undefined) checkPowerW(b.maxImportW, 'tx.body.maxImportW');
  if (b.maxExportW !== undefined) checkPowerW(b.maxExportW, 'tx.body.maxExportW');
  if (b.carbonIntensity !== undefined) checkCarbonIntensity(b.carbonIntensity, 'tx.body.carbonIntensity');
  if (b.operator !== undefined && (!(b.operator instanceof Uint8Array) || b.operator.length !== ADDRESS_LENGTH))
    throw bad('operator', `must be a ${ADDRESS_LENGTH}-byte address`);
  if (b.checkMeter !== undefined && b.checkMeter !== null) {
    checkDeviceId(b.checkMeter, 'tx.body.checkMeter');
    if (b.checkMeter === b.id) throw bad('checkMeter', 'a device cannot be its own check meter');
  }
  const changes = [b.zone, b.maxImportW, b.maxExportW, b.carbonIntensity, b.operator, b.checkMeter];
  if (changes.every((c) => c === undefined)) throw bad('id', 'an update must change at least one field');
}

const opt = (v: Encodable | undefined): Encodable => v ?? null;

export function encodeDeviceUpdateBody(b: DeviceUpdateBody): Uint8Array {
  check(b);
  const checkMeter = b.checkMeter === undefined ? null : b.checkMeter === null ? '' : b.checkMeter;
  return encode([b.id, opt(b.zone), opt(b.maxImportW), opt(b.maxExportW), opt(b.carbonIntensity), opt(b.operator), checkMeter]);
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.*`. */
export function decodeDeviceUpdateBody(bytes: Uint8Array): DeviceUpdateBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 7);
  const maybe = <T>(v: Encodable, read: (v: Encodable) => T): T | undefined => (v === null ? undefined : read(v));
  const cm = f[6]!;
  const body: DeviceUpdateBody = {
    id: readString(f[0]!, 'tx.body.id', MAX_DEVICE_ID_LENGTH),
    zone: maybe(f[1]!, (v) => readString(v, 'tx.body.zone', MAX_ZONE_LENGTH)),
    maxImportW: maybe(f[2]!, (v) => readUint(v, 'tx.body.maxImportW')),
    maxExportW: maybe(f[3]!, (v) => readUint(v, 'tx.body.maxExportW')),
    carbonIntensity: maybe(f[4]!, (v) => readUint(v, 'tx.body.carbonIntensity')),
    operator: maybe(f[5]!, (v) => readBytes(v, 'tx.body.operator', ADDRESS_LENGTH)),
    checkMeter: cm === null ? undefined : cm === '' ? null : readString(cm, 'tx.body.checkMeter', MAX_DEVICE_ID_LENGTH),
  };
  check(body);
  return withoutUndefined(body);
}

/** Drops absent fields, so a decoded body equals the one that was encoded. */
function withoutUndefined(b: DeviceUpdateBody): DeviceUpdateBody {
  return Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)) as unknown as DeviceUpdateBody;
}

export function buildDeviceUpdate(args: SenderArgs & { readonly update: DeviceUpdateBody }): Tx {
  return signBody(args, TxType.deviceUpdate, encodeDeviceUpdateBody(args.update));
}
