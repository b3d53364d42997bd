import { compareBytes } from './bytes.ts';
import { decode, encode, readArray, type Encodable } from './codec.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { coreFromWire, coreToWire, encodeCore, type SignedCore } from './signed-core.ts';

/**
 * Proof of equivocation: two different signed messages of the same kind by the same
 * validator at the same height and round. Canonical: `first` encodes lower than `second`,
 * so the same pair has exactly one encoding (one evidence id, no double inclusion).
 * Wire form: [first core, second core]; it is the body of an evidence tx as is.
 * Verification (signatures against a validator set) is consensus/evidence.ts.
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
