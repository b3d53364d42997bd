/*
 * The state tree: a compact binary sparse Merkle tree over SHA-256 (hashing rules in
 * core/proof.ts). Pure: persistence and loading are state/tree-store.ts.
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
 * - Batched updates: an update sorts a batch by path and rebuilds each touched subtree
 *   once, so the top of the tree (shared by every path) is hashed once per batch, not once
 *   per key. Nodes are immutable and shared between versions: preparing a block's state
 *   copies only the touched paths, and a competing proposal costs no copy of the state.
 * - The shape is a function of the set of entries alone (no rotations, no history), so
 *   the root does not depend on insertion order or batch boundaries (property-tested).
 * - Children are named by ref (hash, version, leaf?): the tree need not be in memory. An
 *   update runs over the nodes of the touched paths, loaded beforehand, and reports the
 *   nodes it creates and the base nodes it replaces (what pruning later deletes).
 *
 * Measured with benchmarks/state.ts: see state/README.md.
 */
import { compareBytes } from '../core/bytes.ts';
import { ZERO_HASH } from '../core/hash.ts';
import { innerHash, keyPath, leafHash, pathBit, valueHash, type StateProof } from '../core/proof.ts';

/**
 * How a parent names a child: its hash, the version (block height) that wrote it — the
 * two together are its key in the node store (state/tree-store.ts) — and whether it is a
 * leaf, so the compact rule (a lone leaf moves up) never needs to load an untouched child.
 */
export interface NodeRef {
  readonly hash: Uint8Array;
  readonly version: number;
  readonly leaf: boolean;
}

export interface LeafNode extends NodeRef {
  readonly kind: 'leaf';
  readonly leaf: true;
  readonly keyHash: Uint8Array;
  readonly valueHash: Uint8Array;
  /** Kept so the node can be persisted with its value (historical proofs return values). */
  readonly value: Uint8Array;
}

/** Children are nodes when built in memory, bare refs when read from the store. */
export interface InnerNode extends NodeRef {
  readonly kind: 'inner';
  readonly leaf: false;
  readonly left: NodeRef | null;
  readonly right: NodeRef | null;
}

export type Node = LeafNode | InnerNode;
/** A subtree: `null` is the empty subtree (hash: 32 zero bytes). */
export type Subtree = NodeRef | null;
/** A subtree held wholly in memory (pure use and tests). */
export type TreeNode = Node | null;

/** Turns a ref into its node; throws when the node is not at hand (the caller loads paths first). */
export type ResolveNode = (ref: NodeRef) => Node;

export function isNode(ref: NodeRef): ref is Node {
  return 'kind' in ref;
}

/** Resolver for trees held wholly in memory. */
export const inMemory: ResolveNode = (ref) => {
  if (isNode(ref)) return ref;
  throw new Error(`state tree node ${Buffer.from(ref.hash).toString('hex')} is not in memory`);
};

export function nodeHash(node: Subtree): Uint8Array {
  return node === null ? ZERO_HASH : node.hash;
}

/** The bare ref of a node (drops the links to child objects, so a cached node holds nothing else alive). */
export function refOf(node: NodeRef): NodeRef {
  return { hash: node.hash, version: node.version, leaf: node.leaf };
}

export function makeLeaf(keyHash: Uint8Array, value: Uint8Array, version = 0): LeafNode {
  const vh = valueHash(value);
  return { kind: 'leaf', leaf: true, hash: leafHash(keyHash, vh), version, keyHash, valueHash: vh, value };
}

export function makeInner(left: Subtree, right: Subtree, version: number, hash = innerHash(nodeHash(left), nodeHash(right))): InnerNode {
  return { kind: 'inner', leaf: false, hash, version, left, right };
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
  // Paths are hashes, so their first 6 bytes (exact in a double) nearly always decide: the
  // byte-by-byte comparison runs only on a tie (2.5-3.5x faster for a block of 22,000).
  const sorted = changes.map((c, i) => ({ c, i, head: pathHead(c.keyHash) }));
  sorted.sort((a, b) => a.head - b.head || compareBytes(a.c.keyHash, b.c.keyHash) || a.i - b.i);
  const out: T[] = [];
  for (const { c } of sorted) {
    const last = out.length - 1;
    if (last >= 0 && compareBytes(out[last]!.keyHash, c.keyHash) === 0) out[last] = c;
    else out.push(c);
  }
  return out;
}

/** A path's first 6 bytes as a number: the same order as the bytes. */
function pathHead(path: Uint8Array): number {
  return (path[0]! * 0x100_0000 + ((path[1]! << 16) | (path[2]! << 8) | path[3]!)) * 0x1_0000 + ((path[4]! << 8) | path[5]!);
}

/** Attaches each change's path (sha256 of its key). */
export function withPaths<T extends { readonly key: Uint8Array; readonly value: Uint8Array | undefined }>(
  changes: readonly T[],
): (PathChange & { readonly key: Uint8Array })[] {
  return changes.map((c) => ({ key: c.key, keyHash: keyPath(c.key), value: c.value }));
}

/** First index in [lo, hi) whose path has bit `depth` set (paths sorted, sharing the prefix). */
export function splitIndex(items: readonly { keyHash: Uint8Array }[], lo: number, hi: number, depth: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pathBit(items[mid]!.keyHash, depth) === 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Records every node created by an update, so the store can persist exactly those. */
export type NodeSink = (node: Node) => void;

/**
 * What an update needs besides the changes: the version its new nodes carry, how to reach
 * the nodes of the base tree, and where to report created nodes and base nodes that are no
 * longer part of the tree (their store keys become stale: state/pruner.ts).
 */
export interface UpdateContext {
  readonly version: number;
  readonly resolve: ResolveNode;
  readonly created: NodeSink;
  readonly removed: (node: NodeRef) => void;
}

function inner(left: Subtree, right: Subtree, ctx: UpdateContext): InnerNode {
  const node = makeInner(left, right, ctx.version);
  ctx.created(node);
  return node;
}

/** Builds the canonical subtree of sorted, distinct leaves that share their first `depth` bits. */
function build(leaves: readonly LeafNode[], lo: number, hi: number, depth: number, ctx: UpdateContext): Subtree {
  if (hi === lo) return null;
  if (hi - lo === 1) return leaves[lo]!;
  const mid = splitIndex(leaves, lo, hi, depth);
  return inner(build(leaves, lo, mid, depth + 1, ctx), build(leaves, mid, hi, depth + 1, ctx), ctx);
}

const ignore = (): void => {};

/** Builds a tree from scratch. `leaves` need not be sorted; paths must be distinct. */
export function buildTree(leaves: LeafNode[], sink: NodeSink = ignore, version = 0): TreeNode {
  leaves.sort((a, b) => compareBytes(a.keyHash, b.keyHash));
  return build(leaves, 0, leaves.length, 0, { version, resolve: inMemory, created: sink, removed: ignore }) as TreeNode;
}

function newLeaf(c: PathChange, ctx: UpdateContext): LeafNode {
  const leaf = makeLeaf(c.keyHash, c.value!, ctx.version);
  ctx.created(leaf);
  return leaf;
}

/** Merges the one leaf already in a subtree with the changes aimed at that subtree. */
function mergeIntoLeaf(ref: NodeRef, leaf: LeafNode, changes: readonly PathChange[], lo: number, hi: number, depth: number, ctx: UpdateContext): Subtree {
  const leaves: LeafNode[] = [];
  let placed = false;
  let changed = false;
  for (let i = lo; i < hi; i++) {
    const c = changes[i]!;
    const cmp = placed ? -1 : compareBytes(leaf.keyHash, c.keyHash);
    if (cmp < 0 && !placed) {
      leaves.push(leaf);
      placed = true;
    }
    if (cmp === 0) {
      // replaced or deleted by the change
      placed = true;
      changed = true;
      ctx.removed(leaf);
    }
    if (c.value !== undefined) {
      leaves.push(newLeaf(c, ctx));
      changed = true;
    }
  }
  if (!changed) return ref; // only deletions of absent keys
  if (!placed) leaves.push(leaf);
  return build(leaves, 0, leaves.length, depth, ctx);
}

/** Applies sorted, distinct changes [lo, hi) to the subtree at `depth`; returns the new subtree. */
function update(ref: Subtree, changes: readonly PathChange[], lo: number, hi: number, depth: number, ctx: UpdateContext): Subtree {
  if (lo === hi) return ref;
  if (ref === null) {
    const leaves: LeafNode[] = [];
    for (let i = lo; i < hi; i++) if (changes[i]!.value !== undefined) leaves.push(newLeaf(changes[i]!, ctx));
    return build(leaves, 0, leaves.length, depth, ctx);
  }
  const node = ctx.resolve(ref);
  if (node.kind === 'leaf') return mergeIntoLeaf(ref, node, changes, lo, hi, depth, ctx);
  const mid = splitIndex(changes, lo, hi, depth);
  const left = update(node.left, changes, lo, mid, depth + 1, ctx);
  const right = update(node.right, changes, mid, hi, depth + 1, ctx);
  if (left === node.left && right === node.right) return ref;
  ctx.removed(node);
  // Keep the tree compact: a lone leaf moves up to where its path becomes unique.
  if (left === null && (right === null || right.leaf)) return right;
  if (right === null && left !== null && left.leaf) return left;
  return inner(left, right, ctx);
}

/**
 * Returns the tree with `sorted` (sortChanges: sorted by path, distinct) applied; the base
 * tree is left untouched (nodes are immutable and shared). Every inner node on the
 * touched paths is hashed once per batch.
 */
export function applyChanges(root: Subtree, sorted: readonly PathChange[], ctx: UpdateContext): Subtree {
  return update(root, sorted, 0, sorted.length, 0, ctx);
}

/** As applyChanges for a tree held in memory, at version 0, changes in any order. */
export function updateTree(root: TreeNode, changes: readonly PathChange[], sink: NodeSink = ignore): TreeNode {
  return applyChanges(root, sortChanges(changes), { version: 0, resolve: inMemory, created: sink, removed: ignore }) as TreeNode;
}

/** As updateTree, for changes already sorted by path and distinct (sortChanges). */
export function updateTreeSorted(root: TreeNode, sorted: readonly PathChange[], sink: NodeSink = ignore): TreeNode {
  return applyChanges(root, sorted, { version: 0, resolve: inMemory, created: sink, removed: ignore }) as TreeNode;
}

/** The leaf holding `keyHash`, if any. */
export function findLeaf(root: Subtree, keyHash: Uint8Array, resolve: ResolveNode = inMemory): LeafNode | undefined {
  let ref = root;
  for (let depth = 0; ref !== null; depth++) {
    const node = resolve(ref);
    if (node.kind === 'leaf') return compareBytes(node.keyHash, keyHash) === 0 ? node : undefined;
    ref = pathBit(keyHash, depth) === 0 ? node.left : node.right;
  }
  return undefined;
}

/** The inclusion or exclusion proof for `keyHash` (see core/proof.ts). */
export function proveInTree(root: Subtree, keyHash: Uint8Array, resolve: ResolveNode = inMemory): StateProof {
  const siblings: Uint8Array[] = [];
  let ref = root;
  for (let depth = 0; ref !== null; depth++) {
    const node = resolve(ref);
    if (node.kind === 'leaf') return { siblings, leaf: { keyHash: node.keyHash, valueHash: node.valueHash } };
    const bit = pathBit(keyHash, depth);
    siblings.push(nodeHash(bit === 0 ? node.right : node.left));
    ref = bit === 0 ? node.left : node.right;
  }
  return { siblings, leaf: null };
}

/** Number of entries (walks the tree; for tests and diagnostics). */
export function countLeaves(root: Subtree, resolve: ResolveNode = inMemory): number {
  if (root === null) return 0;
  const node = resolve(root);
  return node.kind === 'leaf' ? 1 : countLeaves(node.left, resolve) + countLeaves(node.right, resolve);
}
