import { utf8 } from '../../core/bytes.ts';
import { sha256 } from '../../core/hash.ts';
import { addressFromPublicKey, blsFromSecret, ed25519FromSeed, formatAddress } from '../../core/keys.ts';
import { popMessage, signProofOfPossession } from '../../core/pop.ts';
import { ValidatorSet } from '../../core/validators.ts';
import { hex } from './notation.ts';

/**
 * The fixed keys of the protocol vectors. Seeds and secret keys are SHA-256 of a label, so
 * anyone can re-derive them; a BLS secret key is a big-endian scalar below the group
 * order, which setting its first byte to 0x11 guarantees. Ed25519 (RFC 8032) and BLS
 * (hash-to-curve) signatures are deterministic, so every signature in the file is too.
 */
export const VECTOR_CHAIN_ID = 'joule-vectors';

export interface VectorKey {
  readonly name: string;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly address: Uint8Array;
  readonly bls?: { readonly secretKey: Uint8Array; readonly publicKey: Uint8Array };
}

export interface KeyVector {
  name: string;
  ed25519Seed: string;
  ed25519PublicKey: string;
  address: string;
  addressBech32: string;
  blsSecretKey?: string;
  blsPublicKey?: string;
  /** The BLS key's proof of possession for VECTOR_CHAIN_ID: payload and signature. */
  proofOfPossession?: { payload: string; signature: string };
}

function makeKey(name: string, withBls: boolean): VectorKey {
  const seed = sha256(utf8(`joule-protocol-vectors/ed25519/${name}`));
  const { publicKey } = ed25519FromSeed(seed);
  const key = { name, seed, publicKey, address: addressFromPublicKey(publicKey) };
  if (!withBls) return key;
  const secret = sha256(utf8(`joule-protocol-vectors/bls/${name}`));
  secret[0] = 0x11;
  return { ...key, bls: blsFromSecret(secret) };
}

/** Accounts (alice sends, bob receives), four validators, a candidate voted in, and an aggregator operating devices. */
export const KEYS = {
  alice: makeKey('alice', false),
  bob: makeKey('bob', false),
  north: makeKey('dso-north', true),
  south: makeKey('dso-south', true),
  east: makeKey('dso-east', true),
  west: makeKey('dso-west', true),
  candidate: makeKey('aggregator-one', true),
  /** Holds the aggregator role: operates the vector chain's device (device-vectors.ts). */
  aggregator: makeKey('aggregator-two', false),
  /** Holds the oracle role: posts grid carbon intensity (energy-vectors.ts). */
  oracle: makeKey('grid-oracle', false),
  /** Holds the issuer role: mints and burns settlement currency (energy-vectors.ts). */
  issuer: makeKey('issuer-one', false),
} as const;

export const VALIDATOR_KEYS: readonly VectorKey[] = [KEYS.north, KEYS.south, KEYS.east, KEYS.west];

/** The validator set of the vectors' chain (sorted by address, as every node indexes it). */
export const VALIDATOR_SET = new ValidatorSet(
  VALIDATOR_KEYS.map((k) => ({ name: k.name, address: k.address, identityKey: k.publicKey, blsKey: k.bls!.publicKey })),
);

export function popOf(k: VectorKey, chainId = VECTOR_CHAIN_ID): Uint8Array {
  return signProofOfPossession(chainId, k.bls!.secretKey, k.bls!.publicKey, k.publicKey);
}

export function keyVector(k: VectorKey): KeyVector {
  const out: KeyVector = {
    name: k.name,
    ed25519Seed: hex(k.seed),
    ed25519PublicKey: hex(k.publicKey),
    address: hex(k.address),
    addressBech32: formatAddress(k.address),
  };
  if (k.bls === undefined) return out;
  return {
    ...out,
    blsSecretKey: hex(k.bls.secretKey),
    blsPublicKey: hex(k.bls.publicKey),
    proofOfPossession: { payload: hex(popMessage(VECTOR_CHAIN_ID, k.bls.publicKey, k.publicKey)), signature: hex(popOf(k)) },
  };
}
