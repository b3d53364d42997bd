import { blsAggregateVerify, blsFastAggregateVerify, blsVerify, ed25519Verify } from './keys.ts';

/**
 * Signatures as data: what a transaction (or a consensus message, or a telemetry batch)
 * needs verified, described without verifying it, so that the node can verify many at once,
 * off the event loop, and the VM can execute with verification done beforehand (as
 * Lodestar's state-transition `signatureSets`).
 *
 * - `ed25519`: one signer, one message (tx envelopes, consensus message envelopes).
 * - `bls`: one signer, one message (a proof of possession, a commit seal).
 * - `bls-aggregate`: many signers, DISTINCT messages, one aggregate signature (telemetry
 *   batches: each device signs its own reading); `publicKeys[i]` signed `messages[i]`.
 * - `bls-fast-aggregate`: many signers, ONE message (commit certificates); every key must
 *   carry a proof of possession, which is why only validator keys appear here.
 *
 * Byte arrays are never copied or mutated by verification.
 */
export type SignatureSet = Ed25519Set | BlsSet | BlsAggregateSet | BlsFastAggregateSet;

export interface Ed25519Set {
  readonly kind: 'ed25519';
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

export interface BlsSet {
  readonly kind: 'bls';
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

export interface BlsAggregateSet {
  readonly kind: 'bls-aggregate';
  readonly publicKeys: readonly Uint8Array[];
  readonly messages: readonly Uint8Array[];
  readonly signature: Uint8Array;
}

export interface BlsFastAggregateSet {
  readonly kind: 'bls-fast-aggregate';
  readonly publicKeys: readonly Uint8Array[];
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

export type SignatureSetKind = SignatureSet['kind'];

/** Single-thread verification of one set. Never throws: anything malformed is false. */
export function verifySignatureSet(set: SignatureSet): boolean {
  switch (set.kind) {
    case 'ed25519':
      return ed25519Verify(set.publicKey, set.message, set.signature);
    case 'bls':
      return blsVerify(set.publicKey, set.message, set.signature);
    case 'bls-aggregate':
      return blsAggregateVerify(set.messages, set.publicKeys, set.signature);
    case 'bls-fast-aggregate':
      return blsFastAggregateVerify(set.message, set.publicKeys, set.signature);
    default:
      return false;
  }
}
