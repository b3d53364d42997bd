import { bls12_381 } from '@noble/curves/bls12-381.js';
import { utf8 } from '../core/bytes.ts';
import { sha256 } from '../core/hash.ts';
import type { DeviceKind } from '../core/device.ts';
import { devicePopMessage } from '../core/pop.ts';
import type { DeviceRegisterBody } from '../core/tx/device-register.ts';
import { telemetrySigningBytes, type Reading } from '../core/telemetry.ts';
import type { SignedReading } from '../node/telemetry/assemble.ts';

/**
 * A simulated fleet of devices, signing the way a device maker's firmware would: with an
 * independent BLS12-381 implementation (@noble/curves, not the node's blst), from
 * Joule's documented signing layout (core/telemetry.ts), under the POP ciphersuite's DST.
 * The chain verifies their aggregates through blst, so every simulated batch that counts
 * is an interop check. Keys derive from a seed, so a fleet is the same fleet every run.
 */

const noble = bls12_381.longSignatures;
const DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
const ORDER = bls12_381.fields.Fr.ORDER;

export interface FleetDevice {
  readonly id: string;
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

function bigEndian32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** Device `index` of the fleet `seed`: id `${prefix}-${index}`, secret key sha256(seed/index) reduced into [1, r). */
export function fleetDevice(seed: string, prefix: string, index: number): FleetDevice {
  const digest = sha256(utf8(`joule-fleet/${seed}/${index}`));
  let n = 0n;
  for (const b of digest) n = (n << 8n) | BigInt(b);
  const secretKey = bigEndian32((n % (ORDER - 1n)) + 1n);
  return { id: `${prefix}-${index}`, secretKey, publicKey: noble.getPublicKey(secretKey).toBytes() };
}

function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return noble.sign(noble.hash(message, DST), secretKey).toBytes();
}

/** The device's proof of possession for `chainId` (core/pop.ts devicePopMessage), signed with noble. */
export function fleetProofOfPossession(d: FleetDevice, chainId: string): Uint8Array {
  return sign(d.secretKey, devicePopMessage(chainId, d.publicKey));
}

/** What registers a fleet device (type 16): its key and proof of possession, no check meter, no declared carbon intensity. */
export function fleetRegistration(
  d: FleetDevice,
  chainId: string,
  as: { readonly owner: Uint8Array; readonly kind: DeviceKind; readonly zone: string; readonly maxW: number },
): DeviceRegisterBody {
  return {
    id: d.id,
    publicKey: d.publicKey,
    proofOfPossession: fleetProofOfPossession(d, chainId),
    owner: as.owner,
    kind: as.kind,
    zone: as.zone,
    maxImportW: as.maxW,
    maxExportW: as.maxW,
    carbonIntensity: 0,
    checkMeter: undefined,
  };
}

/** A reading signed by its device with noble: what a device sends its aggregator. */
export function signReading(d: FleetDevice, chainId: string, r: Reading): SignedReading {
  return { ...r, signature: sign(d.secretKey, telemetrySigningBytes(chainId, r.deviceId, r.timestampUs, r.netEnergyWh)) };
}

/** The aggregate of readings' signatures, with noble (what an aggregator puts in the batch). */
export function aggregateWithNoble(signatures: readonly Uint8Array[]): Uint8Array {
  return noble.aggregateSignatures(signatures.map((s) => noble.Signature.fromBytes(s))).toBytes();
}
