import { decode, encode, readAmount, readArray, readBool, readBytes, readString, readUint, type Encodable } from './codec.ts';
import {
  checkCarbonIntensity,
  checkDeviceId,
  checkZone,
  deviceKindFromId,
  deviceKindFromName,
  deviceKindId,
  MAX_DEVICE_ID_LENGTH,
  MAX_ZONE_LENGTH,
  type DeviceKind,
} from './device.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { HASH_LENGTH, sha256 } from './hash.ts';
import { ADDRESS_LENGTH } from './keys.ts';

/**
 * Energy tokens and certificates: the vocabulary of the energy ledger's UTXO side (the
 * vm's mint, transfer and retire, state/energy.ts, RPC, the CLI).
 *
 * An energy UTXO is metered energy of one device in one settlement interval, owned by an
 * account: integer Wh with its provenance. It moves whole (energy-transfer spends it and
 * creates outputs) and ends as a certificate (energy-retire), which never moves again.
 */

/** Where and when energy was produced and how clean it was. Outputs only ever merge with identical provenance. */
export interface EnergyProvenance {
  readonly deviceId: string;
  readonly kind: DeviceKind;
  readonly zone: string;
  /** The settlement interval [start, end), ms since the Unix epoch. */
  readonly intervalStartMs: number;
  readonly intervalEndMs: number;
  /** g CO2e/kWh: the device's declared figure, or for storage the weighted figure of what charged it (vm/energy/storage-carbon.ts). */
  readonly carbonIntensity: number;
}

export interface EnergyUtxo {
  /** 32 bytes: mintedUtxoId or outputUtxoId, so ids are never chosen by anyone. */
  readonly id: Uint8Array;
  readonly owner: Uint8Array;
  /** Integer Wh, 1..MAX_ENERGY_WH (0 only for a frozen interval awaiting its check-meter resolution). */
  readonly wh: bigint;
  readonly provenance: EnergyProvenance;
  /** A check-meter disagreement holds it: it cannot be transferred or retired until a dso resolves it. */
  readonly frozen: boolean;
  /** Height of the block that created it (interval close, transfer or retirement change). */
  readonly height: number;
}

/** Retired energy: final. */
export interface Certificate {
  /** 32 bytes: certificateId of the retiring tx. */
  readonly id: Uint8Array;
  /** The account on whose behalf the energy was retired. */
  readonly beneficiary: Uint8Array;
  /** Free text (a claim, a reporting period, a contract), UTF-8, at most MAX_PURPOSE_LENGTH characters. */
  readonly purpose: string;
  readonly wh: bigint;
  readonly provenance: EnergyProvenance;
  /** Height and block time (ms) of the retirement. */
  readonly height: number;
  readonly time: number;
}

/** 1 PWh: far above one device's interval (10 GW for a day is 2.4e11 Wh), and Wh x g/kWh stays below 2^64. */
export const MAX_ENERGY_WH = 10n ** 15n;
export const MAX_PURPOSE_LENGTH = 256;
export const ENERGY_ID_LENGTH = HASH_LENGTH;

/** Device kinds whose exports carry the carbon of what charged them, not their declared figure. */
export const STORAGE_KINDS: readonly DeviceKind[] = ['battery', 'ev-charger'];

export function isStorageKind(kind: DeviceKind): boolean {
  return STORAGE_KINDS.includes(kind);
}

// Hash preimage tags: ids of different kinds (or of different derivations) never collide.
const MINT_TAG = 'JOULE/energy-utxo/mint/v1';
const OUTPUT_TAG = 'JOULE/energy-utxo/output/v1';
const CERTIFICATE_TAG = 'JOULE/certificate/v1';

/**
 * The id of the UTXO minted for a device's interval:
 * sha256(encode(["JOULE/energy-utxo/mint/v1", deviceId, intervalStartMs])). One (device,
 * interval) has one id, so a second mint of the same interval collides instead of
 * doubling, and check-meter resolution finds the UTXO by its interval alone.
 */
export function mintedUtxoId(deviceId: string, intervalStartMs: number): Uint8Array {
  return sha256(encode([MINT_TAG, deviceId, intervalStartMs]));
}

/** The id of output `index` of a tx: sha256(encode(["JOULE/energy-utxo/output/v1", txHash, index])). Tx hashes never repeat (nonces). */
export function outputUtxoId(txHash: Uint8Array, index: number): Uint8Array {
  return sha256(encode([OUTPUT_TAG, txHash, index]));
}

/** The id of the certificate an energy-retire tx creates: sha256(encode(["JOULE/certificate/v1", txHash])). */
export function certificateId(txHash: Uint8Array): Uint8Array {
  return sha256(encode([CERTIFICATE_TAG, txHash]));
}

const invalid = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, field);

function checkTime(v: number, field: string): void {
  if (!Number.isSafeInteger(v) || v < 0) throw invalid(field, 'must be a non-negative integer number of ms');
}

export function checkWh(v: unknown, field: string, allowZero = false): bigint {
  if (typeof v !== 'bigint' || v < (allowZero ? 0n : 1n) || v > MAX_ENERGY_WH)
    throw invalid(field, `must be an integer number of Wh, ${allowZero ? 0 : 1}..${MAX_ENERGY_WH}`);
  return v;
}

export function checkPurpose(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length > MAX_PURPOSE_LENGTH) throw invalid(field, `must be text of at most ${MAX_PURPOSE_LENGTH} characters`);
  return v;
}

function checkAddress(v: Uint8Array, field: string): void {
  if (!(v instanceof Uint8Array) || v.length !== ADDRESS_LENGTH) throw invalid(field, `must be a ${ADDRESS_LENGTH}-byte address`);
}

function checkId(v: Uint8Array, field: string): void {
  if (!(v instanceof Uint8Array) || v.length !== ENERGY_ID_LENGTH) throw invalid(field, `must be ${ENERGY_ID_LENGTH} bytes`);
}

export function checkProvenance(p: EnergyProvenance, path: string): void {
  checkDeviceId(p.deviceId, `${path}.deviceId`);
  deviceKindFromName(p.kind, `${path}.kind`);
  checkZone(p.zone, `${path}.zone`);
  checkTime(p.intervalStartMs, `${path}.intervalStartMs`);
  checkTime(p.intervalEndMs, `${path}.intervalEndMs`);
  if (p.intervalEndMs <= p.intervalStartMs) throw invalid(`${path}.intervalEndMs`, 'must be after intervalStartMs');
  checkCarbonIntensity(p.carbonIntensity, `${path}.carbonIntensity`);
}

/** Identical provenance: the only condition under which energy of two UTXOs may merge. */
export function sameProvenance(a: EnergyProvenance, b: EnergyProvenance): boolean {
  return (
    a.deviceId === b.deviceId &&
    a.kind === b.kind &&
    a.zone === b.zone &&
    a.intervalStartMs === b.intervalStartMs &&
    a.intervalEndMs === b.intervalEndMs &&
    a.carbonIntensity === b.carbonIntensity
  );
}

/** Wire form: [deviceId, kind (index in DEVICE_KINDS), zone, intervalStartMs, intervalEndMs, carbonIntensity] */
export function provenanceWire(p: EnergyProvenance): Encodable[] {
  return [p.deviceId, deviceKindId(p.kind), p.zone, p.intervalStartMs, p.intervalEndMs, p.carbonIntensity];
}

export function readProvenance(v: Encodable, path: string): EnergyProvenance {
  const f = readArray(v, path, 6);
  const p: EnergyProvenance = {
    deviceId: readString(f[0]!, `${path}.deviceId`, MAX_DEVICE_ID_LENGTH),
    kind: deviceKindFromId(readUint(f[1]!, `${path}.kind`), `${path}.kind`),
    zone: readString(f[2]!, `${path}.zone`, MAX_ZONE_LENGTH),
    intervalStartMs: readUint(f[3]!, `${path}.intervalStartMs`),
    intervalEndMs: readUint(f[4]!, `${path}.intervalEndMs`),
    carbonIntensity: readUint(f[5]!, `${path}.carbonIntensity`),
  };
  checkProvenance(p, path);
  return p;
}

export function checkEnergyUtxo(u: EnergyUtxo, path = 'utxo'): void {
  checkId(u.id, `${path}.id`);
  checkAddress(u.owner, `${path}.owner`);
  checkWh(u.wh, `${path}.wh`, u.frozen);
  checkProvenance(u.provenance, `${path}.provenance`);
  if (typeof u.frozen !== 'boolean') throw invalid(`${path}.frozen`, 'must be a boolean');
  checkTime(u.height, `${path}.height`);
}

/** Wire form: [id (32), owner (20), wh, provenance, frozen, height] */
export function encodeEnergyUtxo(u: EnergyUtxo): Uint8Array {
  checkEnergyUtxo(u);
  return encode([u.id, u.owner, u.wh, provenanceWire(u.provenance), u.frozen, u.height]);
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `utxo.*` (a stored record that fails is corrupt state). */
export function decodeEnergyUtxo(bytes: Uint8Array): EnergyUtxo {
  const f = readArray(decode(bytes, 'utxo'), 'utxo', 6);
  const u: EnergyUtxo = {
    id: readBytes(f[0]!, 'utxo.id', ENERGY_ID_LENGTH),
    owner: readBytes(f[1]!, 'utxo.owner', ADDRESS_LENGTH),
    wh: readAmount(f[2]!, 'utxo.wh'),
    provenance: readProvenance(f[3]!, 'utxo.provenance'),
    frozen: readBool(f[4]!, 'utxo.frozen'),
    height: readUint(f[5]!, 'utxo.height'),
  };
  checkEnergyUtxo(u);
  return u;
}

export function checkCertificate(c: Certificate, path = 'certificate'): void {
  checkId(c.id, `${path}.id`);
  checkAddress(c.beneficiary, `${path}.beneficiary`);
  checkPurpose(c.purpose, `${path}.purpose`);
  checkWh(c.wh, `${path}.wh`);
  checkProvenance(c.provenance, `${path}.provenance`);
  checkTime(c.height, `${path}.height`);
  checkTime(c.time, `${path}.time`);
}

/** Wire form: [id (32), beneficiary (20), purpose, wh, provenance, height, time] */
export function encodeCertificate(c: Certificate): Uint8Array {
  checkCertificate(c);
  return encode([c.id, c.beneficiary, c.purpose, c.wh, provenanceWire(c.provenance), c.height, c.time]);
}

export function decodeCertificate(bytes: Uint8Array): Certificate {
  const f = readArray(decode(bytes, 'certificate'), 'certificate', 7);
  const c: Certificate = {
    id: readBytes(f[0]!, 'certificate.id', ENERGY_ID_LENGTH),
    beneficiary: readBytes(f[1]!, 'certificate.beneficiary', ADDRESS_LENGTH),
    purpose: readString(f[2]!, 'certificate.purpose', MAX_PURPOSE_LENGTH),
    wh: readAmount(f[3]!, 'certificate.wh'),
    provenance: readProvenance(f[4]!, 'certificate.provenance'),
    height: readUint(f[5]!, 'certificate.height'),
    time: readUint(f[6]!, 'certificate.time'),
  };
  checkCertificate(c);
  return c;
}
