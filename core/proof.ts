import { equalBytes } from './bytes.ts';
import { decode, encode, type Encodable } from './codec.ts';
import { HASH_LENGTH, sha256, ZERO_HASH } from './hash.ts';

/**
 * The state tree's hashing rules and the light-client proof verifier. The tree itself
 * lives in state/; everything a verifier needs (how keys map to paths, how leaves and
 * inner nodes hash) lives here, so a client holding only a block header can check a
 * proof, and the tree and the verifier can never disagree on the rules.
 *
 * Tree shape (compact binary sparse Merkle tree): a key's path is sha256(key), 256 bits
 * read from the most significant bit. An empty subtree hashes to 32 zero bytes; a subtree
 * holding one entry is that entry's leaf, placed at the first depth where its path is
 * unique; any other subtree is an inner node over its two halves.
 *   leaf  = sha256(0x00 || keyHash || sha256(value))
 *   inner = sha256(0x01 || left || right)
 * The tags keep a leaf from ever being read as an inner node or the other way round; no
 * preimage of the zero hash is known, so "empty" cannot be forged either.
 */

export const TREE_DEPTH = 256;
export const EMPTY_ROOT: Uint8Array = ZERO_HASH;
const LEAF_TAG = 0x00;
const INNER_TAG = 0x01;
const PROOF_VERSION = 1;

// node:crypto copies its input synchronously, so one scratch buffer serves every hash.
const scratch = new Uint8Array(1 + 2 * HASH_LENGTH);

export function keyPath(key: Uint8Array): Uint8Array {
  return sha256(key);
}

export function valueHash(value: Uint8Array): Uint8Array {
  return sha256(value);
}

export function leafHash(keyHash: Uint8Array, valHash: Uint8Array): Uint8Array {
  scratch[0] = LEAF_TAG;
  scratch.set(keyHash, 1);
  scratch.set(valHash, 1 + HASH_LENGTH);
  return sha256(scratch);
}

export function innerHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  scratch[0] = INNER_TAG;
  scratch.set(left, 1);
  scratch.set(right, 1 + HASH_LENGTH);
  return sha256(scratch);
}

/** Bit `depth` of a path (0 = most significant bit of byte 0): 0 goes left, 1 goes right. */
export function pathBit(path: Uint8Array, depth: number): number {
  return (path[depth >> 3]! >> (7 - (depth & 7))) & 1;
}

/** True if `a` and `b` agree on their first `bits` bits. */
export function sharePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole]! & mask) === (b[whole]! & mask);
}

/**
 * A path from the root down to where the key's path ends: the sibling hash at each depth
 * (root's children first; the zero hash for an empty sibling), then what the path ends
 * at: the leaf found there (the key's own leaf for inclusion, another key's leaf sharing
 * the prefix for exclusion) or nothing (an empty subtree, exclusion).
 */
export interface StateProof {
  readonly siblings: readonly Uint8Array[];
  readonly leaf: { readonly keyHash: Uint8Array; readonly valueHash: Uint8Array } | null;
}

/** Wire form: [1, [sibling...], leaf | nil]; an empty sibling is a zero-length byte string. */
export function encodeProof(proof: StateProof): Uint8Array {
  const siblings = proof.siblings.map((s) => (equalBytes(s, ZERO_HASH) ? new Uint8Array(0) : s));
  const leaf: Encodable = proof.leaf === null ? null : [proof.leaf.keyHash, proof.leaf.valueHash];
  return encode([PROOF_VERSION, siblings, leaf]);
}

function isHash(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array && v.length === HASH_LENGTH;
}

/** Parses proof bytes; returns undefined for anything malformed or non-canonical. Never throws. */
export function decodeProof(bytes: Uint8Array): StateProof | undefined {
  let v: Encodable;
  try {
    v = decode(bytes, 'proof');
  } catch {
    return undefined;
  }
  if (!Array.isArray(v) || v.length !== 3 || v[0] !== PROOF_VERSION) return undefined;
  const [, rawSiblings, rawLeaf] = v as readonly Encodable[];
  if (!Array.isArray(rawSiblings) || rawSiblings.length > TREE_DEPTH) return undefined;
  const siblings: Uint8Array[] = [];
  for (const s of rawSiblings as readonly Encodable[]) {
    if (!(s instanceof Uint8Array)) return undefined;
    if (s.length === 0) siblings.push(ZERO_HASH);
    else if (isHash(s) && !equalBytes(s, ZERO_HASH)) siblings.push(s);
    else return undefined; // a zero sibling must be written empty: one encoding per proof
  }
  if (rawLeaf === null) return { siblings, leaf: null };
  if (!Array.isArray(rawLeaf) || rawLeaf.length !== 2) return undefined;
  const [kh, vh] = rawLeaf as readonly Encodable[];
  if (!isHash(kh) || !isHash(vh)) return undefined;
  return { siblings, leaf: { keyHash: kh, valueHash: vh } };
}

/** Folds sibling hashes from the deepest up to the root. */
export function rootFromPath(path: Uint8Array, bottom: Uint8Array, siblings: readonly Uint8Array[]): Uint8Array {
  let h = bottom;
  for (let d = siblings.length - 1; d >= 0; d--) {
    h = pathBit(path, d) === 0 ? innerHash(h, siblings[d]!) : innerHash(siblings[d]!, h);
  }
  return h;
}

/** The verifier over a decoded proof. */
export function verifyStateProof(root: Uint8Array, key: Uint8Array, value: Uint8Array | undefined, proof: StateProof): boolean {
  if (!isHash(root) || proof.siblings.length > TREE_DEPTH) return false;
  const path = keyPath(key);
  const depth = proof.siblings.length;
  let bottom: Uint8Array;
  if (value !== undefined) {
    // Inclusion: the path must end at this key's leaf, holding this value.
    if (proof.leaf === null || !equalBytes(proof.leaf.keyHash, path)) return false;
    if (!equalBytes(proof.leaf.valueHash, valueHash(value))) return false;
    bottom = leafHash(path, proof.leaf.valueHash);
  } else if (proof.leaf === null) {
    // Exclusion by an empty subtree on the key's path. An empty root needs no siblings.
    if (depth === 0) return equalBytes(root, EMPTY_ROOT);
    bottom = ZERO_HASH;
  } else {
    // Exclusion by another key's leaf occupying the key's path: the only entry below it.
    if (equalBytes(proof.leaf.keyHash, path) || !sharePrefix(proof.leaf.keyHash, path, depth)) return false;
    bottom = leafHash(proof.leaf.keyHash, proof.leaf.valueHash);
  }
  return equalBytes(rootFromPath(path, bottom, proof.siblings), root);
}

/**
 * Light-client check that `key` maps to `value` (or, with `value === undefined`, is absent)
 * in the state whose root is `root`. Malformed proof bytes give false, never an exception.
 */
export function verifyProof(root: Uint8Array, key: Uint8Array, value: Uint8Array | undefined, proof: Uint8Array): boolean {
  try {
    const p = decodeProof(proof);
    return p !== undefined && verifyStateProof(root, key, value, p);
  } catch {
    return false;
  }
}
