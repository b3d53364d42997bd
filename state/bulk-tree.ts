import { HASH_LENGTH, ZERO_HASH } from '../core/hash.ts';
import { innerHash } from '../core/proof.ts';

/** Levels built asynchronously at the top of a bulk build (2^8 subtrees below). */
const ASYNC_LEVELS = 8;

/** A subtree as the bulk builder reports it (version 0: built in one go). */
export interface BulkRef {
  readonly hash: Uint8Array;
  readonly leaf: boolean;
}

/** Told of every node the build creates, children before parents (to persist a whole tree at once). */
export interface BulkSink {
  /** Leaf number `index` (in the order added) has hash `hash`. */
  leaf(index: number, hash: Uint8Array): void;
  inner(hash: Uint8Array, left: BulkRef | null, right: BulkRef | null): void;
}

/**
 * The tree of millions of entries, built in one pass without holding a node object per
 * entry: 64 bytes per leaf (its key hash and leaf hash) in two flat buffers, sorted by
 * key hash with a counting sort on the first two bytes. The shape and hashes are exactly
 * state/tree.ts's (same split rule, same compact rule), so the root is the one the node
 * computes incrementally. Used by `joule verify-state` and to generate benchmark states.
 */
export class LeafSet {
  private keyHashes = new Uint8Array(64 * HASH_LENGTH);
  private leafHashes = new Uint8Array(64 * HASH_LENGTH);
  private n = 0;

  get count(): number {
    return this.n;
  }

  add(keyHash: Uint8Array, leafHash: Uint8Array): void {
    if ((this.n + 1) * HASH_LENGTH > this.keyHashes.length) {
      const grow = (b: Uint8Array) => {
        const next = new Uint8Array(b.length * 2);
        next.set(b);
        return next;
      };
      this.keyHashes = grow(this.keyHashes);
      this.leafHashes = grow(this.leafHashes);
    }
    this.keyHashes.set(keyHash, this.n * HASH_LENGTH);
    this.leafHashes.set(leafHash, this.n * HASH_LENGTH);
    this.n++;
  }

  /** The key hash of leaf number `i` (a view: copy it to keep it). */
  keyHashOf(i: number): Uint8Array {
    return this.keyHashes.subarray(i * HASH_LENGTH, (i + 1) * HASH_LENGTH);
  }

  /** Leaf numbers in ascending key-hash order (key hashes are distinct: keys are). */
  private sortedOrder(): Uint32Array {
    const { n, keyHashes } = this;
    const bucketOf = (i: number) => (keyHashes[i * HASH_LENGTH]! << 8) | keyHashes[i * HASH_LENGTH + 1]!;
    const starts = new Uint32Array(65537);
    for (let i = 0; i < n; i++) starts[bucketOf(i) + 1]!++;
    for (let b = 0; b < 65536; b++) starts[b + 1]! += starts[b]!;
    const order = new Uint32Array(n);
    const fill = starts.slice(0, 65536);
    for (let i = 0; i < n; i++) order[fill[bucketOf(i)]!++] = i;
    const view = new DataView(keyHashes.buffer, keyHashes.byteOffset, keyHashes.byteLength);
    const compare = (a: number, b: number): number => {
      for (let off = 2; off < HASH_LENGTH; off += 4) {
        const d = view.getUint32(a * HASH_LENGTH + off) - view.getUint32(b * HASH_LENGTH + off);
        if (d !== 0) return d;
      }
      return 0;
    };
    for (let b = 0; b < 65536; b++) {
      const lo = starts[b]!;
      const hi = starts[b + 1]!;
      if (hi - lo > 1) order.set(Array.from(order.subarray(lo, hi)).sort(compare), lo);
    }
    return order;
  }

  /**
   * The root hash (zero for no leaves), telling `sink` of every node on the way. The top
   * ASYNC_LEVELS levels are built asynchronously, awaiting `between()` after each subtree
   * below them, so a caller writing nodes out can keep its write queue bounded.
   */
  async root(sink?: BulkSink, between?: () => Promise<void>): Promise<Uint8Array> {
    const order = this.sortedOrder();
    const { keyHashes, leafHashes } = this;
    const bit = (pos: number, depth: number) => (keyHashes[order[pos]! * HASH_LENGTH + (depth >> 3)]! >> (7 - (depth & 7))) & 1;
    const split = (lo: number, hi: number, depth: number): number => {
      let a = lo;
      let b = hi;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (bit(mid, depth) === 0) a = mid + 1;
        else b = mid;
      }
      return a;
    };
    const inner = (left: BulkRef | null, right: BulkRef | null): BulkRef => {
      const hash = innerHash(left?.hash ?? ZERO_HASH, right?.hash ?? ZERO_HASH);
      sink?.inner(hash, left, right);
      return { hash, leaf: false };
    };
    const build = (lo: number, hi: number, depth: number): BulkRef | null => {
      if (hi === lo) return null;
      if (hi - lo === 1) {
        const i = order[lo]!;
        const hash = leafHashes.slice(i * HASH_LENGTH, (i + 1) * HASH_LENGTH);
        sink?.leaf(i, hash);
        return { hash, leaf: true };
      }
      const mid = split(lo, hi, depth);
      return inner(build(lo, mid, depth + 1), build(mid, hi, depth + 1));
    };
    const buildAsync = async (lo: number, hi: number, depth: number): Promise<BulkRef | null> => {
      if (depth >= ASYNC_LEVELS || hi - lo <= 1) {
        const r = build(lo, hi, depth);
        await between?.();
        return r;
      }
      const mid = split(lo, hi, depth);
      const left = await buildAsync(lo, mid, depth + 1);
      return inner(left, await buildAsync(mid, hi, depth + 1));
    };
    return (await buildAsync(0, this.n, 0))?.hash ?? ZERO_HASH;
  }
}
