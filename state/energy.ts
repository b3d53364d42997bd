import { concatBytes, u64be, utf8 } from '../core/bytes.ts';
import { decode, encode, readAmount, readArray, readBytes, readUint } from '../core/codec.ts';
import { decodeCertificate, decodeEnergyUtxo, encodeCertificate, encodeEnergyUtxo, type Certificate, type EnergyUtxo } from '../core/energy.ts';
import { ADDRESS_LENGTH } from '../core/keys.ts';
import { certificateKey, EnergyBucket, energyUtxoKey, StatePrefix } from '../core/state-keys.ts';
import type { StateOverlay, StateReader } from './overlay.ts';

/**
 * Energy UTXOs, certificates and what minting reads (typed view of StatePrefix.energyUtxo,
 * core/state-keys.ts EnergyBucket):
 *
 *   0x11 0x01 ++ utxoId                                   -> UTXO (core/energy.ts)
 *   0x11 0x02 ++ owner (20) ++ utxoId                     -> 0x01
 *   0x11 0x03 ++ certificateId                            -> certificate (core/energy.ts)
 *   0x11 0x04 ++ beneficiary (20) ++ certificateId        -> 0x01
 *   0x11 0x05 ++ u8(len) ++ deviceId ++ certificateId     -> 0x01
 *   0x11 0x06 ++ u8(len) ++ zone ++ certificateId         -> 0x01
 *   0x11 0x07 ++ u64be(intervalStartMs) ++ certificateId  -> 0x01
 *   0x11 0x08 ++ deviceId                                 -> [storedWh, carbonMg]
 *   0x11 0x09 ++ u64be(intervalStartMs) ++ zone           -> [intervalStartMs, gPerKwh, oracle]
 *   0x11 0x0a ++ zone                                     -> [intervalStartMs, gPerKwh, oracle]
 *
 * Index entries follow their records (putUtxo / deleteUtxo / putCertificate), so a paged
 * listing reads only what it returns. Certificates are never deleted.
 */

export { certificateKey, energyUtxoKey };

const PRESENT = new Uint8Array([1]);

function bucket(b: number, ...parts: Uint8Array[]): Uint8Array {
  return concatBytes(new Uint8Array([StatePrefix.energyUtxo, b]), ...parts);
}

function lengthPrefixed(s: string): Uint8Array {
  const b = utf8(s);
  return concatBytes(new Uint8Array([b.length]), b);
}

export const UTXO_RECORDS_PREFIX = bucket(EnergyBucket.utxo);
export const CERTIFICATE_RECORDS_PREFIX = bucket(EnergyBucket.certificate);

/** One owner's UTXO index entries; the id follows. */
export function ownerUtxoPrefix(owner: Uint8Array): Uint8Array {
  return bucket(EnergyBucket.utxoByOwner, owner);
}

export function beneficiaryCertificatePrefix(beneficiary: Uint8Array): Uint8Array {
  return bucket(EnergyBucket.certificateByBeneficiary, beneficiary);
}

/** Length-prefixed, so device "a" is no prefix of device "ab". */
export function deviceCertificatePrefix(deviceId: string): Uint8Array {
  return bucket(EnergyBucket.certificateByDevice, lengthPrefixed(deviceId));
}

export function zoneCertificatePrefix(zone: string): Uint8Array {
  return bucket(EnergyBucket.certificateByZone, lengthPrefixed(zone));
}

/** Every period entry; a period listing iterates from periodCertificateFrom(startMs) and stops past its end. */
export const PERIOD_CERTIFICATE_PREFIX = bucket(EnergyBucket.certificateByPeriod);

export function periodCertificateFrom(intervalStartMs: number): Uint8Array {
  return bucket(EnergyBucket.certificateByPeriod, u64be(intervalStartMs));
}

/** Every storage device's pool (one record per battery / EV charger that ever charged). */
export const STORAGE_CARBON_PREFIX = bucket(EnergyBucket.storageCarbon);

export function storageCarbonKey(deviceId: string): Uint8Array {
  return bucket(EnergyBucket.storageCarbon, utf8(deviceId));
}

/** Every zone's post for one interval (one record per zone). */
export function gridIntensityIntervalPrefix(intervalStartMs: number): Uint8Array {
  return bucket(EnergyBucket.gridIntensity, u64be(intervalStartMs));
}

export function gridIntensityKey(zone: string, intervalStartMs: number): Uint8Array {
  return concatBytes(gridIntensityIntervalPrefix(intervalStartMs), utf8(zone));
}

/** Every zone's latest post (one record per zone). */
export const GRID_INTENSITY_LATEST_PREFIX = bucket(EnergyBucket.gridIntensityLatest);

export function gridIntensityLatestKey(zone: string): Uint8Array {
  return bucket(EnergyBucket.gridIntensityLatest, utf8(zone));
}

// ---- UTXOs ----

export function getUtxo(state: StateReader, id: Uint8Array): EnergyUtxo | undefined {
  const raw = state.get(energyUtxoKey(id));
  return raw === undefined ? undefined : decodeEnergyUtxo(raw);
}

/** Writes a UTXO and its owner index entry (an owner never changes: a transfer makes new UTXOs). */
export function putUtxo(state: StateOverlay, u: EnergyUtxo): void {
  state.set(energyUtxoKey(u.id), encodeEnergyUtxo(u));
  state.set(concatBytes(ownerUtxoPrefix(u.owner), u.id), PRESENT);
}

/** Removes a spent (or retired) UTXO and its index entry. */
export function deleteUtxo(state: StateOverlay, u: EnergyUtxo): void {
  state.delete(energyUtxoKey(u.id));
  state.delete(concatBytes(ownerUtxoPrefix(u.owner), u.id));
}

// ---- certificates ----

export function getCertificate(state: StateReader, id: Uint8Array): Certificate | undefined {
  const raw = state.get(certificateKey(id));
  return raw === undefined ? undefined : decodeCertificate(raw);
}

/** The index entries of a certificate, one per listing (beneficiary, device, zone, period). */
export function certificateIndexKeys(c: Certificate): Uint8Array[] {
  return [
    concatBytes(beneficiaryCertificatePrefix(c.beneficiary), c.id),
    concatBytes(deviceCertificatePrefix(c.provenance.deviceId), c.id),
    concatBytes(zoneCertificatePrefix(c.provenance.zone), c.id),
    concatBytes(periodCertificateFrom(c.provenance.intervalStartMs), c.id),
  ];
}

export function putCertificate(state: StateOverlay, c: Certificate): void {
  state.set(certificateKey(c.id), encodeCertificate(c));
  for (const k of certificateIndexKeys(c)) state.set(k, PRESENT);
}

// ---- storage carbon ----

/** A storage device's pool: energy charged and not yet exported, and the carbon it carries (mg CO2e = Wh x g/kWh). */
export interface StorageCarbon {
  readonly storedWh: bigint;
  readonly carbonMg: bigint;
}

export const EMPTY_STORAGE_CARBON: StorageCarbon = { storedWh: 0n, carbonMg: 0n };

export function encodeStorageCarbon(s: StorageCarbon): Uint8Array {
  return encode([s.storedWh, s.carbonMg]);
}

export function decodeStorageCarbon(bytes: Uint8Array): StorageCarbon {
  const f = readArray(decode(bytes, 'storageCarbon'), 'storageCarbon', 2);
  return { storedWh: readAmount(f[0]!, 'storageCarbon.storedWh'), carbonMg: readAmount(f[1]!, 'storageCarbon.carbonMg') };
}

export function getStorageCarbon(state: StateReader, deviceId: string): StorageCarbon {
  const raw = state.get(storageCarbonKey(deviceId));
  return raw === undefined ? EMPTY_STORAGE_CARBON : decodeStorageCarbon(raw);
}

export function putStorageCarbon(state: StateOverlay, deviceId: string, s: StorageCarbon): void {
  state.set(storageCarbonKey(deviceId), encodeStorageCarbon(s));
}

// ---- grid intensity ----

/** What an oracle posted for a zone's interval. */
export interface GridIntensityPost {
  readonly intervalStartMs: number;
  /** g CO2e/kWh */
  readonly carbonIntensity: number;
  readonly oracle: Uint8Array;
}

export function encodeGridIntensityPost(p: GridIntensityPost): Uint8Array {
  return encode([p.intervalStartMs, p.carbonIntensity, p.oracle]);
}

export function decodeGridIntensityPost(bytes: Uint8Array): GridIntensityPost {
  const f = readArray(decode(bytes, 'gridIntensity'), 'gridIntensity', 3);
  return {
    intervalStartMs: readUint(f[0]!, 'gridIntensity.intervalStartMs'),
    carbonIntensity: readUint(f[1]!, 'gridIntensity.carbonIntensity'),
    oracle: readBytes(f[2]!, 'gridIntensity.oracle', ADDRESS_LENGTH),
  };
}

export function getGridIntensity(state: StateReader, zone: string, intervalStartMs: number): GridIntensityPost | undefined {
  const raw = state.get(gridIntensityKey(zone, intervalStartMs));
  return raw === undefined ? undefined : decodeGridIntensityPost(raw);
}

export function getLatestGridIntensity(state: StateReader, zone: string): GridIntensityPost | undefined {
  const raw = state.get(gridIntensityLatestKey(zone));
  return raw === undefined ? undefined : decodeGridIntensityPost(raw);
}

/** Records a post for its interval; it becomes the zone's latest unless a later interval was posted before. */
export function putGridIntensity(state: StateOverlay, zone: string, post: GridIntensityPost): void {
  const raw = encodeGridIntensityPost(post);
  state.set(gridIntensityKey(zone, post.intervalStartMs), raw);
  const latest = getLatestGridIntensity(state, zone);
  if (latest === undefined || latest.intervalStartMs <= post.intervalStartMs) state.set(gridIntensityLatestKey(zone), raw);
}
