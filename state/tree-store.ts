import { equalBytes, readU64be, toHex } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { HASH_LENGTH, ZERO_HASH } from '../core/hash.ts';
import { innerHash, leafHash, pathBit, valueHash, type StateProof } from '../core/proof.ts';
import { DbPrefix, type Database, type DbBatch } from './db.ts';
import { LruCache } from './lru.ts';
import { SlabCache } from './slab-cache.ts';
import { isNode, splitIndex, type InnerNode, type LeafNode, type Node, type NodeRef, type ResolveNode, type Subtree } from './tree.ts';

/**
 * Tree nodes on disk. A node's key is (version, hash) — the height of the block that
 * wrote it, then its hash — as in Diem's Jellyfish: a node written again later (the same
 * content re-created) gets a new key, so the key a block made stale is never brought back
 * to life, and pruning can delete stale keys without reading anything or counting
 * references. Keys of one block are also adjacent, which keeps LevelDB's compaction cheap.
 * Raw fixed layouts rather than the canonical codec: these records are private to this
 * file, hot (thousands per block), and checked by re-hashing on every read.
 *   node   0x10 ++ u64be(version) ++ hash(32)
 *          inner: 0x01 || child(left) || child(right)
 *                 child = kind (0 empty, 1 leaf, 2 inner) || u64be(version) || hash(32)
 *          leaf:  0x00 || key hash (32) || value   (the value, so a proof at an old height
 *                                                    can return it)
 *   stale  0x12 ++ u64be(height) -> (u64be(version) || hash(32))*  the node keys that block
 *          made stale, in one record (one record per block, not one per node: a block makes
 *          tens of thousands of nodes stale, and pruning reads them back in one get)
 *   root   0x13 ++ u64be(version of the state) -> child(root)   (one per block)
 */
const LEAF_RECORD = 0x00;
const INNER_RECORD = 0x01;
const CHILD_BYTES = 1 + 8 + HASH_LENGTH;
const INNER_RECORD_BYTES = 1 + 2 * CHILD_BYTES;
const EMPTY = 0;
const LEAF = 1;
const INNER = 2;

/** Big-endian u64 without BigInt (hot: every node key); heights stay far below 2^53. */
function putU64(out: Uint8Array, offset: number, n: number): void {
  const hi = Math.floor(n / 0x1_0000_0000);
  const lo = n >>> 0;
  out[offset] = hi >>> 24;
  out[offset + 1] = (hi >>> 16) & 0xff;
  out[offset + 2] = (hi >>> 8) & 0xff;
  out[offset + 3] = hi & 0xff;
  out[offset + 4] = lo >>> 24;
  out[offset + 5] = (lo >>> 16) & 0xff;
  out[offset + 6] = (lo >>> 8) & 0xff;
  out[offset + 7] = lo & 0xff;
}

export function nodeKey(ref: NodeRef): Uint8Array {
  const out = new Uint8Array(1 + 8 + HASH_LENGTH);
  out[0] = DbPrefix.stateNode;
  putU64(out, 1, ref.version);
  out.set(ref.hash, 9);
  return out;
}

/** The stale-index record of `height`: which node keys block `height` removed from the tree. */
export function staleKey(height: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = DbPrefix.stateStale;
  putU64(out, 1, height);
  return out;
}

const STALE_ENTRY = 8 + HASH_LENGTH;

export function encodeStale(refs: readonly NodeRef[]): Uint8Array {
  const out = new Uint8Array(refs.length * STALE_ENTRY);
  refs.forEach((r, i) => {
    putU64(out, i * STALE_ENTRY, r.version);
    out.set(r.hash, i * STALE_ENTRY + 8);
  });
  return out;
}

/** The node keys a stale-index record names. */
export function staleNodeKeys(record: Uint8Array): Uint8Array[] {
  if (record.length % STALE_ENTRY !== 0) throw new JouleError(ErrorCode.STORE_CORRUPT, `stale-index record of ${record.length} bytes`);
  const keys: Uint8Array[] = [];
  for (let off = 0; off < record.length; off += STALE_ENTRY) {
    const key = new Uint8Array(1 + STALE_ENTRY);
    key[0] = DbPrefix.stateNode;
    key.set(record.subarray(off, off + STALE_ENTRY), 1);
    keys.push(key);
  }
  return keys;
}

export function rootKey(version: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = DbPrefix.stateRoot;
  putU64(out, 1, version);
  return out;
}

function writeChild(out: Uint8Array, offset: number, ref: Subtree): void {
  if (ref === null) return; // zeros: kind EMPTY, version 0, zero hash
  out[offset] = ref.leaf ? LEAF : INNER;
  putU64(out, offset + 1, ref.version);
  out.set(ref.hash, offset + 9);
}

function corrupt(hash: Uint8Array, why: string): JouleError {
  return new JouleError(ErrorCode.STORE_CORRUPT, `state tree node ${toHex(hash)}: ${why}`);
}

function readChild(record: Uint8Array, offset: number, owner: Uint8Array, copy = false): Subtree {
  const kind = record[offset]!;
  const hash = copy ? record.slice(offset + 9, offset + CHILD_BYTES) : record.subarray(offset + 9, offset + CHILD_BYTES);
  if (kind === EMPTY) {
    if (!equalBytes(hash, ZERO_HASH)) throw corrupt(owner, 'empty child with a hash');
    return null;
  }
  if (kind !== LEAF && kind !== INNER) throw corrupt(owner, `unknown child kind ${kind}`);
  return { hash, version: readU64be(record, offset + 1), leaf: kind === LEAF };
}

export function encodeRootRef(ref: Subtree): Uint8Array {
  const out = new Uint8Array(CHILD_BYTES);
  writeChild(out, 0, ref);
  return out;
}

export function decodeRootRef(bytes: Uint8Array): Subtree {
  if (bytes.length !== CHILD_BYTES) throw new JouleError(ErrorCode.STORE_CORRUPT, `state root record is ${bytes.length} bytes, expected ${CHILD_BYTES}`);
  return readChild(bytes, 0, ZERO_HASH);
}

export function encodeNode(node: Node): Uint8Array {
  if (node.kind === 'leaf') {
    const out = new Uint8Array(1 + HASH_LENGTH + node.value.length);
    out[0] = LEAF_RECORD;
    out.set(node.keyHash, 1);
    out.set(node.value, 1 + HASH_LENGTH);
    return out;
  }
  const out = new Uint8Array(1 + 2 * CHILD_BYTES);
  out[0] = INNER_RECORD;
  writeChild(out, 1, node.left);
  writeChild(out, 1 + CHILD_BYTES, node.right);
  return out;
}

/** Decodes the record stored under `ref` and checks it hashes to ref.hash, so a damaged node is never trusted. */
export function decodeNode(ref: NodeRef, record: Uint8Array): Node {
  const { hash, version } = ref;
  // Views into the record (one allocation per node, not one per field): the record is ours alone.
  if (ref.leaf && record.length >= 1 + HASH_LENGTH && record[0] === LEAF_RECORD) {
    const keyHash = record.subarray(1, 1 + HASH_LENGTH);
    const value = record.subarray(1 + HASH_LENGTH);
    const vh = valueHash(value);
    if (!equalBytes(leafHash(keyHash, vh), hash)) throw corrupt(hash, 'leaf record does not match its hash');
    const leaf: LeafNode = { kind: 'leaf', leaf: true, hash, version, keyHash, valueHash: vh, value };
    return leaf;
  }
  if (!ref.leaf && record.length === 1 + 2 * CHILD_BYTES && record[0] === INNER_RECORD) {
    const left = readChild(record, 1, hash);
    const right = readChild(record, 1 + CHILD_BYTES, hash);
    if (!equalBytes(innerHash(left?.hash ?? ZERO_HASH, right?.hash ?? ZERO_HASH), hash)) throw corrupt(hash, 'inner record does not match its hash');
    const inner: InnerNode = { kind: 'inner', leaf: false, hash, version, left, right };
    return inner;
  }
  throw corrupt(hash, 'malformed record');
}

/** An inner node from a cached record (checked when it entered the cache; copied out of the slab). */
function innerFromSlab(ref: NodeRef, record: Uint8Array): InnerNode {
  return {
    kind: 'inner',
    leaf: false,
    hash: ref.hash,
    version: ref.version,
    left: readChild(record, 1, ref.hash, true),
    right: readChild(record, 1 + CHILD_BYTES, ref.hash, true),
  };
}

/**
 * A node's cache key: a number from 48 bits of its hash and its version (no string built
 * per lookup: the tree update path looks nodes up tens of thousands of times per block).
 * Two nodes may share a key; a hit is checked against the full hash and version.
 */
function cacheKey(ref: NodeRef): number {
  const h = ref.hash;
  const high = h[0]! * 0x100_0000 + ((h[1]! << 16) | (h[2]! << 8) | h[3]!);
  return high * 0x1_0000 + ((h[4]! << 8) | h[5]!) + ref.version * 0x10_0000;
}

function sameNode(a: NodeRef, b: NodeRef): boolean {
  return a.version === b.version && equalBytes(a.hash, b.hash);
}

/** Bytes a cached leaf costs, objects, typed-array views and Map entry included (measured: ~500 plus the value). */
function cachedSize(_key: number, node: Node): number {
  return 500 + (node.kind === 'leaf' ? node.value.length : 250);
}

/** Thrown when a node a path needs is not in the store: the caller knows whether that means pruned or corrupt. */
export class MissingNodeError extends Error {
  readonly ref: NodeRef;
  constructor(ref: NodeRef) {
    super(`state tree node ${toHex(ref.hash)} (version ${ref.version}) is not in the store`);
    this.ref = ref;
  }
}

/**
 * Tree nodes behind a bounded LRU cache. The tree is never held whole in memory: a
 * block's update first loads the paths it touches (level by level, one LevelDB getMany
 * per level), then runs synchronously over them (state/tree.ts).
 */
export class NodeStore {
  private readonly db: Database;
  /** Inner nodes: fixed-size records off the JavaScript heap (most of the cache). */
  private readonly inner: SlabCache;
  /** Leaves (variable size): an update of an existing key rebuilds its leaf from the value instead. */
  private readonly leaves: LruCache<Node, number>;
  /** Nodes read from LevelDB since opening (cache misses). */
  reads = 0;

  constructor(db: Database, cacheBytes: number) {
    this.db = db;
    this.inner = new SlabCache(INNER_RECORD_BYTES, Math.floor((cacheBytes * 7) / 8));
    this.leaves = new LruCache<Node, number>(Math.floor(cacheBytes / 8), cachedSize);
  }

  get cacheEntries(): number {
    return this.inner.size + this.leaves.size;
  }

  get cacheBytes(): number {
    return this.inner.bytes + this.leaves.bytes;
  }

  private cached(ref: NodeRef): Node | undefined {
    if (!ref.leaf) {
      const record = this.inner.get(ref.version, ref.hash);
      return record === undefined ? undefined : innerFromSlab(ref, record);
    }
    const hit = this.leaves.get(cacheKey(ref));
    return hit !== undefined && sameNode(hit, ref) ? hit : undefined;
  }

  /** Caches a node that was read (and checked) or written. */
  private keep(node: Node, record?: Uint8Array): void {
    if (node.kind === 'inner') this.inner.set(node.version, node.hash, record ?? encodeNode(node));
    else this.leaves.set(cacheKey(node), node);
  }

  /** Keeps a node a block wrote (the hot top of the tree, and what the next block touches); `record`: its encoding, if at hand. */
  remember(node: Node, record?: Uint8Array): void {
    this.keep(node, record);
  }

  /** Adds `node` to the batch; returns its record (remember() takes it back after the commit). */
  put(batch: DbBatch, node: Node): Uint8Array {
    const record = encodeNode(node);
    batch.put(nodeKey(node), record);
    return record;
  }

  async load(ref: NodeRef): Promise<Node> {
    if (isNode(ref)) return ref;
    const hit = this.cached(ref);
    if (hit !== undefined) return hit;
    const record = await this.db.get(nodeKey(ref));
    if (record === undefined) throw new MissingNodeError(ref);
    this.reads++;
    const node = decodeNode(ref, record);
    this.keep(node, record);
    return node;
  }

  /**
   * Loads into `working` every node on the paths of `changes` (sorted by path) from `root`
   * down to where each path ends, so an update of those paths can run synchronously.
   * `working` is keyed by the ref objects themselves: the update walks the same objects.
   */
  async loadPaths<C extends { keyHash: Uint8Array }>(
    root: Subtree,
    changes: readonly C[],
    working: Map<NodeRef, Node>,
    ownLeaf?: (change: C, version: number) => LeafNode | undefined,
  ): Promise<void> {
    type Step = { ref: NodeRef; lo: number; hi: number; depth: number };
    let frontier: Step[] = root === null || changes.length === 0 ? [] : [{ ref: root, lo: 0, hi: changes.length, depth: 0 }];
    while (frontier.length > 0) {
      const missing: NodeRef[] = [];
      for (const { ref, lo, hi } of frontier) {
        if (working.has(ref)) continue;
        let node = isNode(ref) ? ref : this.cached(ref);
        // A path ending at a leaf that one change aims at is, most often, that key's own
        // leaf: when its value is known, the leaf is rebuilt and checked against the ref's
        // hash instead of read (updating an existing record then costs no leaf read).
        if (node === undefined && ref.leaf && hi - lo === 1 && ownLeaf !== undefined) {
          const guess = ownLeaf(changes[lo]!, ref.version);
          if (guess !== undefined && equalBytes(guess.hash, ref.hash)) node = guess;
        }
        if (node === undefined) missing.push(ref);
        else working.set(ref, node);
      }
      if (missing.length > 0) {
        const records = await this.db.getMany(missing.map(nodeKey));
        this.reads += missing.length;
        for (let i = 0; i < missing.length; i++) {
          const ref = missing[i]!;
          const record = records[i];
          if (record === undefined) throw new MissingNodeError(ref);
          const node = decodeNode(ref, record);
          working.set(ref, node);
          this.keep(node, record);
        }
      }
      const next: Step[] = [];
      for (const { ref, lo, hi, depth } of frontier) {
        const node = working.get(ref)!;
        if (node.kind === 'leaf') continue;
        const mid = splitIndex(changes, lo, hi, depth);
        if (mid > lo && node.left !== null) next.push({ ref: node.left, lo, hi: mid, depth: depth + 1 });
        if (hi > mid && node.right !== null) next.push({ ref: node.right, lo: mid, hi, depth: depth + 1 });
      }
      frontier = next;
    }
  }

  /** A resolver over nodes loaded by loadPaths (then the cache); anything else is a bug in the caller. */
  resolver(working: Map<NodeRef, Node>): ResolveNode {
    return (ref) => {
      if (isNode(ref)) return ref;
      const node = working.get(ref) ?? this.cached(ref);
      if (node === undefined) throw new Error(`state tree node ${toHex(ref.hash)} was not loaded before the update`);
      return node;
    };
  }

  /**
   * The proof of `keyHash` under `root` and the value found (undefined when absent),
   * walking nodes from the cache or LevelDB. Throws MissingNodeError for a node the store
   * does not hold.
   */
  async prove(root: Subtree, keyHash: Uint8Array): Promise<{ proof: StateProof; value: Uint8Array | undefined }> {
    const siblings: Uint8Array[] = [];
    let ref = root;
    for (let depth = 0; ref !== null; depth++) {
      const node = await this.load(ref);
      if (node.kind === 'leaf') {
        const value = equalBytes(node.keyHash, keyHash) ? node.value : undefined;
        return { proof: { siblings, leaf: { keyHash: node.keyHash, valueHash: node.valueHash } }, value };
      }
      if (depth >= 256) throw corrupt(node.hash, 'path deeper than 256 levels');
      const bit = pathBit(keyHash, depth);
      siblings.push((bit === 0 ? node.right : node.left)?.hash ?? ZERO_HASH);
      ref = bit === 0 ? node.left : node.right;
    }
    return { proof: { siblings, leaf: null }, value: undefined };
  }
}
