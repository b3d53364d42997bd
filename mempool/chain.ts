import type { Entry } from './entry.ts';

/**
 * One sender's pooled txs, sorted by nonce (at most one per nonce). A sorted array rather
 * than a tree: a chain holds at most `maxPerSender` entries, and the common operations
 * hit its ends — append the next nonce, take the committed prefix in one splice, pop the
 * tail on eviction — which are O(1) or one memmove. A middle insert (filling a gap) or a
 * middle removal costs one memmove of at most maxPerSender pointers.
 */
export class SenderChain {
  readonly key: string;
  readonly from: Uint8Array;
  readonly entries: Entry[] = [];
  /** Position in the pool's eviction heap; -1 while not in it. */
  heapIndex = -1;

  constructor(key: string, from: Uint8Array) {
    this.key = key;
    this.from = from;
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

  /** Inserts an entry whose nonce is not present (the caller removes a replaced one first). */
  insert(entry: Entry): void {
    const i = this.lowerBound(entry.tx.nonce);
    if (i === this.entries.length) this.entries.push(entry);
    else this.entries.splice(i, 0, entry);
  }

  remove(entry: Entry): boolean {
    const i = this.indexOf(entry.tx.nonce);
    if (i < 0 || this.entries[i] !== entry) return false;
    if (i === this.entries.length - 1) this.entries.pop();
    else this.entries.splice(i, 1);
    return true;
  }

  /** Removes and returns every entry with nonce < `nonce` (already executed or superseded). */
  takeBelow(nonce: number): Entry[] {
    const n = this.lowerBound(nonce);
    return n === 0 ? [] : this.entries.splice(0, n);
  }
}
