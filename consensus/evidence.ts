import { compareBytes, equalBytes } from '../core/bytes.ts';
import { decode, encode, readArray, type Encodable } from '../core/codec.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import type { ValidatorSet } from '../core/validators.ts';
import { coreFromWire, coreToWire, encodeCore, messageSigningBytes, KIND_NAMES, type SignedCore } from './messages.ts';
import { defaultCrypto, type ConsensusCrypto } from './crypto.ts';

/**
 * Proof of equivocation: two different signed messages of the same kind by the same
 * validator at the same height and round. Canonical: `first` encodes lower than `second`,
 * so the same pair has exactly one encoding (one evidence id, no double inclusion).
 * Wire form: [first core, second core].
 */
export interface Evidence {
  readonly first: SignedCore;
  readonly second: SignedCore;
}

/** Orders the pair canonically. */
export function makeEvidence(a: SignedCore, b: SignedCore): Evidence {
  return compareBytes(encodeCore(a), encodeCore(b)) <= 0 ? { first: a, second: b } : { first: b, second: a };
}

export function evidenceToWire(e: Evidence): Encodable[] {
  return [coreToWire(e.first), coreToWire(e.second)];
}

export function encodeEvidence(e: Evidence): Uint8Array {
  return encode(evidenceToWire(e));
}

export function evidenceFromWire(v: Encodable, path = 'evidence'): Evidence {
  const f = readArray(v, path, 2);
  const e = { first: coreFromWire(f[0]!, `${path}.first`, [0, 1, 2, 3]), second: coreFromWire(f[1]!, `${path}.second`, [0, 1, 2, 3]) };
  if (compareBytes(encodeCore(e.first), encodeCore(e.second)) >= 0) {
    throw new JouleError(ErrorCode.CONSENSUS_INVALID_MESSAGE, 'evidence messages must be distinct and in canonical order', path);
  }
  return e;
}

export function decodeEvidence(bytes: Uint8Array): Evidence {
  return evidenceFromWire(decode(bytes, 'evidence'));
}

/**
 * Pure check used by block validation (the evidence tx) and RPC: both messages are for the
 * same kind, height and round, by the same member of `validators` (the set of that
 * height), signed by it, and sign different content. Returns true or the typed reason.
 */
export function verifyEvidence(e: Evidence, validators: ValidatorSet, chainId: string, crypto: ConsensusCrypto = defaultCrypto): true | JouleError {
  const bad = (why: string) => new JouleError(ErrorCode.CONSENSUS_INVALID_MESSAGE, why, 'evidence');
  const { first: a, second: b } = e;
  if (a.kind !== b.kind || a.height !== b.height || a.round !== b.round) return bad('messages differ in kind, height or round');
  if (!equalBytes(a.author, b.author)) return bad('messages have different authors');
  const index = validators.indexOf(a.author);
  if (index < 0) return new JouleError(ErrorCode.CONSENSUS_NOT_VALIDATOR, 'author is not in the validator set', 'evidence.first.author');
  const sa = messageSigningBytes(chainId, a);
  const sb = messageSigningBytes(chainId, b);
  if (equalBytes(sa, sb)) return bad(`both ${KIND_NAMES[a.kind]} messages sign the same content`);
  const key = validators.at(index).identityKey;
  if (!crypto.verify(key, sa, a.signature)) return bad('first signature does not verify');
  if (!crypto.verify(key, sb, b.signature)) return bad('second signature does not verify');
  return true;
}
