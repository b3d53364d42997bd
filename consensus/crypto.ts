import { blsAggregateSignatures, blsFastAggregateVerify, blsSign, blsVerify, ed25519Sign, ed25519Verify } from '../core/keys.ts';

/** Signs for this node. Pure given its keys; supplied by the caller (keys never enter consensus/). */
export interface Signer {
  /** This validator's address (from its Ed25519 identity key). */
  readonly address: Uint8Array;
  /** Ed25519 signature with the identity key: every consensus message envelope. */
  sign(bytes: Uint8Array): Uint8Array;
  /** BLS signature with the consensus key: commit seals only. */
  blsSign(bytes: Uint8Array): Uint8Array;
}

export function keySigner(address: Uint8Array, ed25519Seed: Uint8Array, blsSecretKey: Uint8Array): Signer {
  return { address, sign: (b) => ed25519Sign(ed25519Seed, b), blsSign: (b) => blsSign(blsSecretKey, b) };
}

/** Verification functions; injectable so a driver can cache or batch them. Must never throw. */
export interface ConsensusCrypto {
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  blsVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /** Aggregates signatures; may throw on a malformed one (the caller treats that as invalid). */
  blsAggregate(signatures: readonly Uint8Array[]): Uint8Array;
  blsFastAggregateVerify(message: Uint8Array, publicKeys: readonly Uint8Array[], signature: Uint8Array): boolean;
}

export const defaultCrypto: ConsensusCrypto = {
  verify: ed25519Verify,
  blsVerify,
  blsAggregate: blsAggregateSignatures,
  blsFastAggregateVerify,
};
