import type { Entry } from './entry.ts';
import { ranksBelow, type Level } from './tiers.ts';

/**
 * One sender's pooled txs, sorted by nonce (at most one per nonce). A sorted array rather
 * than a tree: a chain holds at most `maxPerSender` entries, and the common operations
 * hit its ends — append the next nonce, take the committed prefix in one splice, pop the
 * tail on eviction — which are O(1) or one memmove. A middle insert (filling a gap) or a
 * middle removal costs one memmove of at most maxPerSender pointers, and one pass to
 * update the floors after it.
 */
export class SenderChain {
  readonly key: string;
  readonly from: Uint8Array;
  readonly entries: Entry[] = [];
  /** The sender's account nonce as last told (admission, a commit): where its executable run starts. */
  baseNonce: number;
  /** Sum of the entries' costs: what the sender's pending txs take from its balance together. */
  cost = 0n;
  /** Which of the pool's eviction heaps holds the chain (eviction.ts slotOf), -1 none; and where in it. */
  heapSlot = -1;
  heapIndex = -1;
  /**
   * Since when (the caller's clock, ms) the chain has had a nonce gap; undefined while it
   * has none, or until the pool is next told the time.
   */
  gapSince: number | undefined;

  constructor(key: string, from: Uint8Array, baseNonce: number) {
    this.key = key;
    this.from = from;
    this.baseNonce = baseNonce;
  }

  get length(): number {
    return this.entries.length;
  }

  /** Highest-nonce entry: the only one that can leave without opening a nonce gap. */
  get tail(): Entry {
    return this.entries[this.entries.length - 1]!;
  }

  /** Index of the first entry whose nonce is >= `nonce` (binary search). */
  lowerBound(nonce: number): number {
    const e = this.entries;
    if (e.length === 0 || e[e.length - 1]!.tx.nonce < nonce) return e.length; // fast path: append
    let lo = 0;
    let hi = e.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (e[mid]!.tx.nonce < nonce) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the entry with exactly this nonce, or -1. */
  indexOf(nonce: number): number {
    const i = this.lowerBound(nonce);
    return i < this.entries.length && this.entries[i]!.tx.nonce === nonce ? i : -1;
  }

  get(nonce: number): Entry | undefined {
    const i = this.indexOf(nonce);
    return i < 0 ? undefined : this.entries[i];
  }

  /**
   * How many entries from index `start` on carry consecutive nonces starting at `base`:
   * with base = the account nonce and start = 0, the executable run. O(log k), because
   * nonce - index never decreases along a strictly sorted chain.
   */
  runFrom(start: number, base: number): number {
    const e = this.entries;
    if (start >= e.length || e[start]!.tx.nonce !== base) return 0;
    let lo = start;
    let hi = e.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (e[mid]!.tx.nonce - (mid - start) > base) hi = mid;
      else lo = mid + 1;
    }
    return lo - start;
  }

  /** True when some entry waits behind a missing nonce (O(1)). */
  get hasGap(): boolean {
    const e = this.entries;
    return e.length > 0 && (e[0]!.tx.nonce !== this.baseNonce || e[e.length - 1]!.tx.nonce - this.baseNonce !== e.length - 1);
  }

  /** Sum of the costs of entries[0, end). */
  costBefore(end: number): bigint {
    let sum = 0n;
    for (let i = 0; i < end; i++) sum += this.entries[i]!.cost;
    return sum;
  }

  /** Inserts an entry whose nonce is not present (the caller removes a replaced one first). */
  insert(entry: Entry): void {
    const i = this.lowerBound(entry.tx.nonce);
    if (i === this.entries.length) this.entries.push(entry);
    else this.entries.splice(i, 0, entry);
    this.cost += entry.cost;
    this.refloor(i);
  }

  remove(entry: Entry): boolean {
    const i = this.indexOf(entry.tx.nonce);
    if (i < 0 || this.entries[i] !== entry) return false;
    if (i === this.entries.length - 1) this.entries.pop();
    else this.entries.splice(i, 1);
    this.cost -= entry.cost;
    this.refloor(i);
    return true;
  }

  /** Removes and returns every entry with nonce < `nonce` (already executed or superseded). */
  takeBelow(nonce: number): Entry[] {
    const n = this.lowerBound(nonce);
    if (n === 0) return [];
    const taken = this.entries.splice(0, n);
    for (const e of taken) this.cost -= e.cost;
    this.refloor(0);
    return taken;
  }

  /** Removes and returns entries[i] and everything after it (the txs that depend on it). */
  takeFrom(i: number): Entry[] {
    if (i >= this.entries.length) return [];
    const taken = this.entries.splice(i);
    for (const e of taken) this.cost -= e.cost;
    return taken;
  }

  /**
   * Recomputes the floors from index `i` on (those before it are unaffected). Stops at the
   * first later entry whose floor comes out unchanged: every floor after it is then
   * unchanged too, so a chain of equal fees costs O(1) here.
   */
  private refloor(i: number): void {
    const e = this.entries;
    let level: Level | undefined;
    let floor = 0n;
    if (i > 0) {
      level = e[i - 1]!.floorLevel;
      floor = e[i - 1]!.floor;
    }
    for (let j = i; j < e.length; j++) {
      const x = e[j]!;
      if (level === undefined || ranksBelow(x.level, x.priority, level, floor)) {
        level = x.level;
        floor = x.priority;
      }
      if (j > i && x.floor === floor && x.floorLevel === level) return;
      x.floorLevel = level;
      x.floor = floor;
    }
  }
}
