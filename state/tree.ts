/*
 * The state tree: a compact binary sparse Merkle tree over SHA-256 (hashing rules in
 * core/proof.ts). Pure and in memory; persistence is state/tree-store.ts.
 *
 * Why this structure:
 * - A key's position is sha256(key), so the tree stays balanced whatever the keys are
 *   (depth ~ log2(n) + 1), and no node type needs variable-length key fragments (unlike a
 *   Patricia trie's extension nodes): a node is either a leaf or an inner node over two
 *   32-byte child hashes, every hash input is exactly 65 bytes.
 * - "Compact": a subtree holding a single entry is stored as that leaf where its path
 *   first becomes unique (Diem's Jellyfish, "compact SMT"), so an update re-hashes about
 *   log2(n) nodes instead of 256.
 * - Exclusion proofs come for free: the path of an absent key ends at an empty subtree or
 *   at another key's leaf.
 * - Batched updates: `updateTree` sorts a batch by path and rebuilds each touched subtree
 *   once, so the top of the tree (shared by every path) is hashed once per batch, not once
 *   per key. Nodes are immutable and shared between versions: preparing a block's state
 *   copies only the touched paths, and a competing proposal costs no copy of the state.
 * - The shape is a function of the set of entries alone (no rotations, no history), so
 *   the root does not depend on insertion order or batch boundaries (property-tested).
 *
 * Measured here with benchmarks/state.ts (2-core VM shared with other work, so figures
 * swing 2-3x with the neighbours' load; best quiet-machine figures first), over a state of
 * 100,000 accounts, blocks of 4,000 account updates (2,000 transfers), 40-byte values:
 *   node:crypto SHA-256 of 65 bytes:      ~0.75-1.1 M/s (the ceiling for any binary tree)
 *   tree updates in memory (prepare):     35,000-46,000 updates/s (15,000-20,000 under a
 *                                         load average of 9-12), ~10 hashes per update;
 *                                         vs ~8,000 inserts/s reported for @ethereumjs/mpt
 *   block commit, tree + LevelDB + fsync: 2.2-5 blocks/s = 4,500-10,000 transfers/s
 *                                         (raw LevelDB, same 32,000 records/batch: 3-7/s)
 * A block writes ~28,000 tree nodes (~7 per update: the new path below the shared top)
 * plus 4,000 flat values, ~3 MB. Where the time goes: SHA-256 calls (~35 %), LevelDB's
 * batch write (~10 %, plus fsync wait), GC (~12 %). What would raise it: persisting nodes
 * in 4-level pages as Jellyfish does (4x fewer records, ~2x more bytes), and pruning.
 */
import { compareBytes } from '../core/bytes.ts';
import { ZERO_HASH } from '../core/hash.ts';
import { innerHash, keyPath, leafHash, pathBit, valueHash, type StateProof } from '../core/proof.ts';

export interface LeafNode {
  readonly kind: 'leaf';
  readonly hash: Uint8Array;
  readonly keyHash: Uint8Array;
  readonly valueHash: Uint8Array;
  /** Kept so the node can be persisted with its value (historical proofs return values). */
  readonly value: Uint8Array;
}

export interface InnerNode {
  readonly kind: 'inner';
  readonly hash: Uint8Array;
  readonly left: TreeNode;
  readonly right: TreeNode;
}

/** `null` is the empty subtree (hash: 32 zero bytes). */
export type TreeNode = LeafNode | InnerNode | null;

export function nodeHash(node: TreeNode): Uint8Array {
  return node === null ? ZERO_HASH : node.hash;
}

export function makeLeaf(keyHash: Uint8Array, value: Uint8Array): LeafNode {
  const vh = valueHash(value);
  return { kind: 'leaf', hash: leafHash(keyHash, vh), keyHash, valueHash: vh, value };
}

function makeInner(left: TreeNode, right: TreeNode): InnerNode {
  return { kind: 'inner', hash: innerHash(nodeHash(left), nodeHash(right)), left, right };
}

/** One change keyed by path: a value, or undefined to delete. */
export interface PathChange {
  readonly keyHash: Uint8Array;
  readonly value: Uint8Array | undefined;
}

/**
 * Sorts changes by path; for a path given twice the later change wins (so a batch means
 * the same as applying its changes one by one).
 */
export function sortChanges<T extends PathChange>(changes: readonly T[]): T[] {
  const sorted = changes.map((c, i) => ({ c, i }));
  sorted.sort((a, b) => compareBytes(a.c.keyHash, b.c.keyHash) || a.i - b.i);
  const out: T[] = [];
  for (const { c } of sorted) {
    const last = out.length - 1;
    if (last >= 0 && compareBytes(out[last]!.keyHash, c.keyHash) === 0) out[last] = c;
    else out.push(c);
  }
  return out;
}

/** Attaches each change's path (sha256 of its key). */
export function withPaths<T extends { readonly key: Uint8Array; readonly value: Uint8Array | undefined }>(
  changes: readonly T[],
): (PathChange & { readonly key: Uint8Array })[] {
  return changes.map((c) => ({ key: c.key, keyHash: keyPath(c.key), value: c.value }));
}

/** First index in [lo, hi) whose path has bit `depth` set (paths sorted, sharing the prefix). */
function splitIndex(items: readonly { keyHash: Uint8Array }[], lo: number, hi: number, depth: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pathBit(items[mid]!.keyHash, depth) === 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Records every node created by an update, so the store can persist exactly those. */
export type NodeSink = (node: LeafNode | InnerNode) => void;

/** Builds the canonical subtree of sorted, distinct leaves that share their first `depth` bits. */
function build(leaves: readonly LeafNode[], lo: number, hi: number, depth: number, sink: NodeSink): TreeNode {
  if (hi === lo) return null;
  if (hi - lo === 1) return leaves[lo]!;
  const mid = splitIndex(leaves, lo, hi, depth);
  const node = makeInner(build(leaves, lo, mid, depth + 1, sink), build(leaves, mid, hi, depth + 1, sink));
  sink(node);
  return node;
}

/** Builds a tree from scratch (loading). `leaves` need not be sorted; paths must be distinct. */
export function buildTree(leaves: LeafNode[], sink: NodeSink = () => {}): TreeNode {
  leaves.sort((a, b) => compareBytes(a.keyHash, b.keyHash));
  return build(leaves, 0, leaves.length, 0, sink);
}

/** Merges the one leaf already in a subtree with the changes aimed at that subtree. */
function mergeIntoLeaf(leaf: LeafNode, changes: readonly PathChange[], lo: number, hi: number, depth: number, sink: NodeSink): TreeNode {
  const leaves: LeafNode[] = [];
  let placed = false;
  for (let i = lo; i < hi; i++) {
    const c = changes[i]!;
    const cmp = placed ? -1 : compareBytes(leaf.keyHash, c.keyHash);
    if (cmp < 0 && !placed) {
      leaves.push(leaf);
      placed = true;
    }
    if (cmp === 0) placed = true; // replaced or deleted by the change
    if (c.value !== undefined) leaves.push(newLeaf(c, sink));
  }
  if (!placed) leaves.push(leaf);
  return build(leaves, 0, leaves.length, depth, sink);
}

function newLeaf(c: PathChange, sink: NodeSink): LeafNode {
  const leaf = makeLeaf(c.keyHash, c.value!);
  sink(leaf);
  return leaf;
}

/** Applies sorted, distinct changes [lo, hi) to the subtree at `depth`; returns the new subtree. */
function update(node: TreeNode, changes: readonly PathChange[], lo: number, hi: number, depth: number, sink: NodeSink): TreeNode {
  if (lo === hi) return node;
  if (node === null) {
    const leaves: LeafNode[] = [];
    for (let i = lo; i < hi; i++) if (changes[i]!.value !== undefined) leaves.push(newLeaf(changes[i]!, sink));
    return build(leaves, 0, leaves.length, depth, sink);
  }
  if (node.kind === 'leaf') return mergeIntoLeaf(node, changes, lo, hi, depth, sink);
  const mid = splitIndex(changes, lo, hi, depth);
  const left = update(node.left, changes, lo, mid, depth + 1, sink);
  const right = update(node.right, changes, mid, hi, depth + 1, sink);
  if (left === node.left && right === node.right) return node;
  // Keep the tree compact: a lone leaf moves up to where its path becomes unique.
  if (left === null && (right === null || right.kind === 'leaf')) return right;
  if (right === null && left !== null && left.kind === 'leaf') return left;
  const inner = makeInner(left, right);
  sink(inner);
  return inner;
}

/**
 * Returns the tree with `changes` applied; `root` is left untouched (nodes are shared).
 * Every created node is passed to `sink`, each inner node hashed once per batch.
 */
export function updateTree(root: TreeNode, changes: readonly PathChange[], sink: NodeSink = () => {}): TreeNode {
  const sorted = sortChanges(changes);
  return update(root, sorted, 0, sorted.length, 0, sink);
}

/** As updateTree, for changes already sorted by path and distinct (sortChanges). */
export function updateTreeSorted(root: TreeNode, sorted: readonly PathChange[], sink: NodeSink = () => {}): TreeNode {
  return update(root, sorted, 0, sorted.length, 0, sink);
}

/** The leaf holding `keyHash`, if any. */
export function findLeaf(root: TreeNode, keyHash: Uint8Array): LeafNode | undefined {
  let node = root;
  for (let depth = 0; node !== null; depth++) {
    if (node.kind === 'leaf') return compareBytes(node.keyHash, keyHash) === 0 ? node : undefined;
    node = pathBit(keyHash, depth) === 0 ? node.left : node.right;
  }
  return undefined;
}

/** The inclusion or exclusion proof for `keyHash` (see core/proof.ts). */
export function proveInTree(root: TreeNode, keyHash: Uint8Array): StateProof {
  const siblings: Uint8Array[] = [];
  let node = root;
  for (let depth = 0; node !== null && node.kind === 'inner'; depth++) {
    const bit = pathBit(keyHash, depth);
    siblings.push(nodeHash(bit === 0 ? node.right : node.left));
    node = bit === 0 ? node.left : node.right;
  }
  const leaf = node === null ? null : { keyHash: node.keyHash, valueHash: node.valueHash };
  return { siblings, leaf };
}

/** Number of entries (walks the tree; for tests and diagnostics). */
export function countLeaves(root: TreeNode): number {
  if (root === null) return 0;
  return root.kind === 'leaf' ? 1 : countLeaves(root.left) + countLeaves(root.right);
}
