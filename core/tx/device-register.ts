import { decode, encode, readArray, readBytes, readString, readUint } from '../codec.ts';
import {
  checkCarbonIntensity,
  checkDeviceId,
  checkPowerW,
  checkZone,
  deviceKindFromId,
  deviceKindFromName,
  deviceKindId,
  MAX_DEVICE_ID_LENGTH,
  MAX_ZONE_LENGTH,
  type DeviceKind,
} from '../device.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import { ADDRESS_LENGTH, BLS_PUBLIC_KEY_LENGTH, BLS_SIGNATURE_LENGTH } from '../keys.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/**
 * Type 16, register a device; its operator is the sender. Wire form:
 * [id, publicKey (48), proofOfPossession (96, core/pop.ts devicePopMessage), owner (20),
 *  kind (index in DEVICE_KINDS), zone, maxImportW, maxExportW, carbonIntensity, checkMeter | nil]
 */
export interface DeviceRegisterBody {
  readonly id: string;
  readonly publicKey: Uint8Array;
  readonly proofOfPossession: Uint8Array;
  readonly owner: Uint8Array;
  readonly kind: DeviceKind;
  readonly zone: string;
  readonly maxImportW: number;
  readonly maxExportW: number;
  readonly carbonIntensity: number;
  readonly checkMeter: string | undefined;
}

const bad = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, `tx.body.${field}`);

function check(b: DeviceRegisterBody): void {
  checkDeviceId(b.id, 'tx.body.id');
  if (!(b.publicKey instanceof Uint8Array) || b.publicKey.length !== BLS_PUBLIC_KEY_LENGTH) throw bad('publicKey', `must be ${BLS_PUBLIC_KEY_LENGTH} bytes`);
  if (!(b.proofOfPossession instanceof Uint8Array) || b.proofOfPossession.length !== BLS_SIGNATURE_LENGTH)
    throw bad('proofOfPossession', `must be ${BLS_SIGNATURE_LENGTH} bytes`);
  if (!(b.owner instanceof Uint8Array) || b.owner.length !== ADDRESS_LENGTH) throw bad('owner', `must be a ${ADDRESS_LENGTH}-byte address`);
  deviceKindFromName(b.kind, 'tx.body.kind');
  checkZone(b.zone, 'tx.body.zone');
  checkPowerW(b.maxImportW, 'tx.body.maxImportW');
  checkPowerW(b.maxExportW, 'tx.body.maxExportW');
  checkCarbonIntensity(b.carbonIntensity, 'tx.body.carbonIntensity');
  if (b.checkMeter !== undefined) {
    checkDeviceId(b.checkMeter, 'tx.body.checkMeter');
    if (b.checkMeter === b.id) throw bad('checkMeter', 'a device cannot be its own check meter');
  }
}

export function encodeDeviceRegisterBody(b: DeviceRegisterBody): Uint8Array {
  check(b);
  return encode([
    b.id,
    b.publicKey,
    b.proofOfPossession,
    b.owner,
    deviceKindId(b.kind),
    b.zone,
    b.maxImportW,
    b.maxExportW,
    b.carbonIntensity,
    b.checkMeter ?? null,
  ]);
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.*`. Key validity and the proof are the vm's checks. */
export function decodeDeviceRegisterBody(bytes: Uint8Array): DeviceRegisterBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 10);
  const body: DeviceRegisterBody = {
    id: readString(f[0]!, 'tx.body.id', MAX_DEVICE_ID_LENGTH),
    publicKey: readBytes(f[1]!, 'tx.body.publicKey'),
    proofOfPossession: readBytes(f[2]!, 'tx.body.proofOfPossession'),
    owner: readBytes(f[3]!, 'tx.body.owner'),
    kind: deviceKindFromId(readUint(f[4]!, 'tx.body.kind'), 'tx.body.kind'),
    zone: readString(f[5]!, 'tx.body.zone', MAX_ZONE_LENGTH),
    maxImportW: readUint(f[6]!, 'tx.body.maxImportW'),
    maxExportW: readUint(f[7]!, 'tx.body.maxExportW'),
    carbonIntensity: readUint(f[8]!, 'tx.body.carbonIntensity'),
    checkMeter: f[9] === null ? undefined : readString(f[9]!, 'tx.body.checkMeter', MAX_DEVICE_ID_LENGTH),
  };
  check(body);
  return body;
}

/** Builds and signs a device-register tx (core/pop.ts signDeviceProofOfPossession makes the proof). */
export function buildDeviceRegister(args: SenderArgs & { readonly device: DeviceRegisterBody }): Tx {
  return signBody(args, TxType.deviceRegister, encodeDeviceRegisterBody(args.device));
}
