import { compareBytes, equalBytes } from './bytes.ts';
import { encode } from './codec.ts';
import { sha256 } from './hash.ts';

/**
 * Validator names: in genesis files, emergency transitions and validator votes alike, so a
 * voted-in name could also stand in a genesis file.
 */
export const VALIDATOR_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export interface Validator {
  readonly name: string;
  /** Address derived from the Ed25519 identity key (also the libp2p peer identity). */
  readonly address: Uint8Array;
  readonly identityKey: Uint8Array; // Ed25519 public key, 32 bytes
  readonly blsKey: Uint8Array; // BLS12-381 G1 public key, 48 bytes
}

/**
 * Most validators a set may hold, at genesis and after votes: commit bitmaps and gossip
 * fan-out stay small, and a round change's justification (a quorum of ROUND-CHANGEs, at
 * most consensus/messages.ts MAX_JUSTIFICATION_ENTRIES = 1024) stays decodable.
 */
export const MAX_VALIDATORS = 1024;

/** f: how many Byzantine validators n can tolerate. */
export function maxFaulty(n: number): number {
  return Math.floor((n - 1) / 3);
}

/** Quorum = ceil(2n/3). */
export function quorumSize(n: number): number {
  return Math.ceil((2 * n) / 3);
}

/**
 * The validator set of one height, sorted by address so every node indexes it the same
 * way (certificate bitmaps and proposer rotation depend on that order).
 */
export class ValidatorSet {
  readonly validators: readonly Validator[];
  readonly hash: Uint8Array;
  private readonly indexByAddress: Map<string, number>;

  constructor(validators: readonly Validator[]) {
    this.validators = [...validators].sort((a, b) => compareBytes(a.address, b.address));
    this.indexByAddress = new Map(this.validators.map((v, i) => [Buffer.from(v.address).toString('hex'), i]));
    this.hash = sha256(encode(this.validators.map((v) => [v.name, v.address, v.identityKey, v.blsKey])));
  }

  get size(): number {
    return this.validators.length;
  }

  get quorum(): number {
    return quorumSize(this.validators.length);
  }

  get faulty(): number {
    return maxFaulty(this.validators.length);
  }

  indexOf(address: Uint8Array): number {
    return this.indexByAddress.get(Buffer.from(address).toString('hex')) ?? -1;
  }

  has(address: Uint8Array): boolean {
    return this.indexOf(address) >= 0;
  }

  at(index: number): Validator {
    const v = this.validators[index];
    if (v === undefined) throw new RangeError(`no validator at index ${index}`);
    return v;
  }

  equals(other: ValidatorSet): boolean {
    return equalBytes(this.hash, other.hash);
  }
}

// ---- signer bitmaps (bit i set = validator i signed) ----

export function bitmapFromIndexes(size: number, indexes: Iterable<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(size / 8));
  for (const i of indexes) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/** Indexes set in the bitmap; undefined if it has the wrong length or bits beyond `size`. */
export function indexesFromBitmap(size: number, bitmap: Uint8Array): number[] | undefined {
  if (bitmap.length !== Math.ceil(size / 8)) return undefined;
  const out: number[] = [];
  for (let i = 0; i < bitmap.length * 8; i++) {
    if (bitmap[i >> 3]! & (1 << (i & 7))) {
      if (i >= size) return undefined;
      out.push(i);
    }
  }
  return out;
}
