import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8 } from './bytes.ts';
import { encode } from './codec.ts';
import { EMPTY_ROOT, decodeProof, encodeProof, innerHash, keyPath, leafHash, valueHash, verifyProof } from './proof.ts';

/**
 * The verifier against hand-built trees (independent of state/tree.ts, which has its own
 * property tests that exercise the verifier on random trees).
 */
const ka = utf8('alice');
const kb = utf8('bob');
const va = utf8('100');
const vb = utf8('200');
const la = leafHash(keyPath(ka), valueHash(va));
const lb = leafHash(keyPath(kb), valueHash(vb));

/** A two-entry tree: the two paths split at the first bit where they differ. */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  for (let d = 0; d < 256; d++) if (((a[d >> 3]! >> (7 - (d & 7))) & 1) !== ((b[d >> 3]! >> (7 - (d & 7))) & 1)) return d;
  throw new Error('same path');
}
const split = firstDiff(keyPath(ka), keyPath(kb));
const aGoesLeft = ((keyPath(ka)[split >> 3]! >> (7 - (split & 7))) & 1) === 0;
function twoLeafRoot(): Uint8Array {
  let h = aGoesLeft ? innerHash(la, lb) : innerHash(lb, la);
  for (let d = split - 1; d >= 0; d--) {
    const bit = (keyPath(ka)[d >> 3]! >> (7 - (d & 7))) & 1;
    h = bit === 0 ? innerHash(h, EMPTY_ROOT) : innerHash(EMPTY_ROOT, h);
  }
  return h;
}
const root = twoLeafRoot();
const siblingsA = [...Array<Uint8Array>(split).fill(EMPTY_ROOT), lb];
const proofA = encodeProof({ siblings: siblingsA, leaf: { keyHash: keyPath(ka), valueHash: valueHash(va) } });

describe('verifyProof', () => {
  it('single-leaf tree: inclusion and exclusion', () => {
    const r = la;
    const p = encodeProof({ siblings: [], leaf: { keyHash: keyPath(ka), valueHash: valueHash(va) } });
    expect(verifyProof(r, ka, va, p)).toBe(true);
    expect(verifyProof(r, ka, vb, p)).toBe(false);
    expect(verifyProof(r, kb, undefined, p)).toBe(true); // bob's path ends at alice's leaf
    expect(verifyProof(r, ka, undefined, p)).toBe(false);
  });

  it('empty tree proves every key absent, nothing present', () => {
    const p = encodeProof({ siblings: [], leaf: null });
    expect(verifyProof(EMPTY_ROOT, ka, undefined, p)).toBe(true);
    expect(verifyProof(EMPTY_ROOT, ka, va, p)).toBe(false);
    expect(verifyProof(la, ka, undefined, p)).toBe(false);
  });

  it('two-leaf tree with a shared prefix', () => {
    expect(verifyProof(root, ka, va, proofA)).toBe(true);
    expect(verifyProof(root, ka, vb, proofA)).toBe(false);
    expect(verifyProof(root, kb, vb, proofA)).toBe(false);
    const proofB = encodeProof({ siblings: [...siblingsA.slice(0, split), la], leaf: { keyHash: keyPath(kb), valueHash: valueHash(vb) } });
    expect(verifyProof(root, kb, vb, proofB)).toBe(true);
  });

  it('wrong root fails', () => {
    const bad = Uint8Array.from(root);
    bad[31]! ^= 1;
    expect(verifyProof(bad, ka, va, proofA)).toBe(false);
    expect(verifyProof(root.subarray(1), ka, va, proofA)).toBe(false);
  });

  it('any single flipped bit in the proof fails', () => {
    for (let i = 0; i < proofA.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const t = Uint8Array.from(proofA);
        t[i]! ^= 1 << bit;
        expect(verifyProof(root, ka, va, t)).toBe(false);
      }
    }
  });

  it('garbage, truncated and non-canonical bytes return false without throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(verifyProof(root, ka, va, bytes)).toBe(false);
        expect(verifyProof(root, ka, undefined, bytes)).toBe(false);
      }),
      { numRuns: 2000 },
    );
    for (let n = 0; n < proofA.length; n++) expect(verifyProof(root, ka, va, proofA.subarray(0, n))).toBe(false);
    // a zero sibling written out in full instead of empty: a second encoding, rejected
    const longForm = encode([1, [...siblingsA.map((s) => (s === EMPTY_ROOT ? new Uint8Array(32) : s))], [keyPath(ka), valueHash(va)]]);
    if (split > 0) expect(decodeProof(longForm)).toBeUndefined();
    expect(decodeProof(encode([2, [], null]))).toBeUndefined();
    expect(decodeProof(encode([1, Array(257).fill(new Uint8Array(0)), null]))).toBeUndefined();
  });

  it('encodeProof and decodeProof round-trip', () => {
    const p = decodeProof(proofA)!;
    expect(encodeProof(p)).toEqual(proofA);
  });
});
