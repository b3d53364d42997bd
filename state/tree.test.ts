import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes, equalBytes } from '../core/bytes.ts';
import { ZERO_HASH } from '../core/hash.ts';
import { EMPTY_ROOT, encodeProof, keyPath, verifyProof } from '../core/proof.ts';
import { buildTree, countLeaves, findLeaf, makeLeaf, nodeHash, proveInTree, sortChanges, updateTree, withPaths, type TreeNode } from './tree.ts';

type Op = { key: Uint8Array; value: Uint8Array | undefined };

const keyArb = fc.uint8Array({ minLength: 0, maxLength: 6 }); // short keys: many collisions between ops
const valueArb = fc.uint8Array({ minLength: 0, maxLength: 40 });
const opArb: fc.Arbitrary<Op> = fc.record({ key: keyArb, value: fc.option(valueArb, { nil: undefined, freq: 4 }) });

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The reference model: a plain map, applied change by change. */
function applyModel(model: Map<string, Op>, ops: readonly Op[]): void {
  for (const op of ops) {
    if (op.value === undefined) model.delete(hex(op.key));
    else model.set(hex(op.key), op);
  }
}

/** The root computed from scratch over the model's entries (the canonical tree of the set). */
function modelRoot(model: Map<string, Op>): Uint8Array {
  return nodeHash(buildTree([...model.values()].map((op) => makeLeaf(keyPath(op.key), op.value!))));
}

function applyInBatches(ops: readonly Op[], cuts: readonly number[]): TreeNode {
  let tree: TreeNode = null;
  let start = 0;
  for (const cut of [...cuts, ops.length]) {
    const end = Math.min(Math.max(cut, start), ops.length);
    tree = updateTree(tree, withPaths(ops.slice(start, end)));
    start = end;
  }
  return tree;
}

/** Checks the compact invariant: every inner node holds at least two entries. */
function isCompact(node: TreeNode): boolean {
  if (node === null || node.kind === 'leaf') return true;
  // Built in memory, every child is a node object (not a bare ref).
  return countLeaves(node) >= 2 && isCompact(node.left as TreeNode) && isCompact(node.right as TreeNode);
}

describe('state tree', () => {
  it('sortChanges orders by path, byte by byte, and keeps the later of two changes to one path', () => {
    // Paths that share their first bytes (up to all but the last) and repeat: ties on any prefix.
    const path = fc.tuple(fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 2 })).map(([at, b]) => {
      const p = new Uint8Array(32).fill(7);
      p[at] = b;
      return p;
    });
    fc.assert(
      fc.property(fc.array(path, { maxLength: 60 }), (paths) => {
        const changes = paths.map((keyHash, i) => ({ keyHash, value: new Uint8Array([i]) }));
        // The reference: for each distinct path its last change, in byte order.
        const last = new Map<string, (typeof changes)[number]>();
        for (const c of changes) last.set(c.keyHash.join(','), c);
        const expected = [...last.values()].sort((a, b) => compareBytes(a.keyHash, b.keyHash));
        expect(sortChanges(changes)).toEqual(expected);
      }),
    );
  });

  it('the empty tree has the zero root', () => {
    expect(equalBytes(nodeHash(null), EMPTY_ROOT)).toBe(true);
    expect(equalBytes(EMPTY_ROOT, ZERO_HASH)).toBe(true);
    expect(updateTree(null, [])).toBe(null);
    expect(updateTree(null, withPaths([{ key: new Uint8Array([1]), value: undefined }]))).toBe(null);
  });

  it('the root depends only on the final set, not on order or batch boundaries', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), fc.array(fc.nat(120), { maxLength: 6 }), (ops, cuts) => {
        const model = new Map<string, Op>();
        applyModel(model, ops);
        const expected = modelRoot(model);
        const oneBatch = updateTree(null, withPaths(ops));
        const oneByOne = ops.reduce<TreeNode>((t, op) => updateTree(t, withPaths([op])), null);
        const batched = applyInBatches(
          ops,
          [...cuts].sort((a, b) => a - b),
        );
        for (const t of [oneBatch, oneByOne, batched]) {
          expect(hex(nodeHash(t))).toBe(hex(expected));
          expect(countLeaves(t)).toBe(model.size);
          expect(isCompact(t)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('insertion order of the final set does not matter', () => {
    fc.assert(
      fc.property(fc.uniqueArray(keyArb, { maxLength: 60, selector: hex }), fc.nat(), (keys, seed) => {
        const entries = keys.map((k, i) => ({ key: k, value: new Uint8Array([i & 0xff]) }));
        const shuffled = [...entries].sort((a, b) => ((hex(a.key).length * 31 + seed) % 7) - ((hex(b.key).length * 17 + seed) % 5));
        const a = entries.reduce<TreeNode>((t, e) => updateTree(t, withPaths([e])), null);
        const b = updateTree(null, withPaths(shuffled.reverse()));
        expect(hex(nodeHash(a))).toBe(hex(nodeHash(b)));
      }),
      { numRuns: 100 },
    );
  });

  it('updates leave the old version intact (persistent nodes)', () => {
    const v1 = updateTree(null, withPaths([1, 2, 3].map((i) => ({ key: new Uint8Array([i]), value: new Uint8Array([i]) }))));
    const r1 = hex(nodeHash(v1));
    const v2 = updateTree(
      v1,
      withPaths([
        { key: new Uint8Array([2]), value: undefined },
        { key: new Uint8Array([9]), value: new Uint8Array([9]) },
      ]),
    );
    expect(hex(nodeHash(v1))).toBe(r1);
    expect(countLeaves(v1)).toBe(3);
    expect(countLeaves(v2)).toBe(3);
    expect(findLeaf(v1, keyPath(new Uint8Array([2])))).toBeDefined();
    expect(findLeaf(v2, keyPath(new Uint8Array([2])))).toBeUndefined();
  });

  it('within one batch the later change to a key wins', () => {
    const k = new Uint8Array([7]);
    const t = updateTree(
      null,
      withPaths([
        { key: k, value: new Uint8Array([1]) },
        { key: k, value: new Uint8Array([2]) },
      ]),
    );
    expect(findLeaf(t, keyPath(k))!.value).toEqual(new Uint8Array([2]));
    const t2 = updateTree(
      t,
      withPaths([
        { key: k, value: new Uint8Array([3]) },
        { key: k, value: undefined },
      ]),
    );
    expect(t2).toBe(null);
  });

  it('every key present or absent has a proof that verifies, and only for the right value', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), fc.array(keyArb, { maxLength: 10 }), (ops, probes) => {
        const model = new Map<string, Op>();
        applyModel(model, ops);
        const tree = updateTree(null, withPaths(ops));
        const root = nodeHash(tree);
        for (const key of [...ops.map((o) => o.key), ...probes]) {
          const value = model.get(hex(key))?.value;
          const proof = encodeProof(proveInTree(tree, keyPath(key)));
          expect(verifyProof(root, key, value, proof)).toBe(true);
          // wrong claim: absent for a present key, present for an absent one, another value
          expect(verifyProof(root, key, value === undefined ? new Uint8Array([1]) : undefined, proof)).toBe(false);
          if (value !== undefined) expect(verifyProof(root, key, Uint8Array.from([...value, 0]), proof)).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });
});
