import type { SenderChain } from './chain.ts';
import { evictsBefore, type Entry } from './entry.ts';
import { Heap } from './heap.ts';
import { LEVELS_LOW_FIRST, type Level } from './tiers.ts';

/** A tx a full pool would give up, and whether it waits behind a nonce gap. */
export interface Victim {
  entry: Entry;
  gapped: boolean;
}

/** Heap slot of a chain: by its tail's tier (the tier that loses a tx when it is evicted) and gap state. */
function slotOf(chain: SenderChain): number {
  return chain.tail.level * 2 + (chain.hasGap ? 1 : 0);
}

/**
 * The candidates for eviction: every chain's tail (the only tx that can leave without
 * opening a nonce gap), in eight heaps, one per (tier of the tail, gapped or not), each
 * with the tail to evict first on top (evictsBefore: the lowest floor, tier first). A
 * chain whose tail is a grid_balancing tx but whose floor is a carbon_credit tx sits in
 * the grid_balancing heaps, yet competes with the carbon_credit tails by its floor: the
 * pool-wide victim is the first of the heaps' tops, so a high-tier tail shields nothing.
 */
export class EvictionIndex {
  private readonly heaps: Heap<SenderChain>[] = Array.from(
    { length: 8 },
    () =>
      new Heap<SenderChain>(
        (a, b) => evictsBefore(a.tail, b.tail),
        (c, i) => void (c.heapIndex = i),
      ),
  );

  /** After a chain changed (not emptied): put it in the heap its tail and gap call for, in order. */
  place(chain: SenderChain): void {
    const slot = slotOf(chain);
    if (chain.heapSlot >= 0 && chain.heapSlot !== slot) this.drop(chain);
    if (chain.heapSlot < 0) {
      chain.heapSlot = slot;
      this.heaps[slot]!.push(chain);
    } else {
      this.heaps[slot]!.update(chain.heapIndex);
    }
  }

  drop(chain: SenderChain): void {
    if (chain.heapSlot < 0) return;
    this.heaps[chain.heapSlot]!.removeAt(chain.heapIndex);
    chain.heapSlot = -1;
    chain.heapIndex = -1;
  }

  /**
   * The tail to give up first: a gapped one (it cannot execute) of a tier `gappedFrom`
   * allows, else the executable tail of the lowest floor among the tiers `readyFrom` allows.
   */
  victim(gappedFrom: (level: Level) => boolean, readyFrom: (level: Level) => boolean): Victim | undefined {
    for (const gapped of [true, false]) {
      let best: Entry | undefined;
      for (const level of LEVELS_LOW_FIRST) {
        if (!(gapped ? gappedFrom : readyFrom)(level)) continue;
        const top = this.heaps[level * 2 + (gapped ? 1 : 0)]!.peek()?.tail;
        if (top !== undefined && (best === undefined || evictsBefore(top, best))) best = top;
      }
      if (best !== undefined) return { entry: best, gapped };
    }
    return undefined;
  }

  /** Chains with a nonce gap, for gap expiry. */
  gappedChains(): SenderChain[] {
    return LEVELS_LOW_FIRST.flatMap((level) => this.heaps[level * 2 + 1]!.toArray());
  }

  /** For the consistency check: every heap's chains in heap order, with the slot each belongs to. */
  slots(): { slot: number; chains: SenderChain[]; expected: (c: SenderChain) => number }[] {
    return this.heaps.map((h, slot) => ({ slot, chains: h.toArray(), expected: slotOf }));
  }

  get size(): number {
    return this.heaps.reduce((n, h) => n + h.size, 0);
  }
}
