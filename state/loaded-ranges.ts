import { byteId, type StateEntry } from './overlay.ts';

/** A loaded slice [lo, hi) of the key space (hi undefined: to the end), complete within it. */
export interface LoadedRange {
  readonly lo: Uint8Array;
  readonly hi: Uint8Array | undefined;
  readonly entries: readonly StateEntry[];
  readonly ids: readonly string[];
}

interface Held {
  readonly range: LoadedRange;
  /** byteId of lo and hi: Latin-1 strings compare with `<` in byte order. */
  readonly lo: string;
  readonly hi: string | undefined;
  /** Order of addition: of ranges that reach as far, the first added is the one found. */
  readonly seq: number;
}

/** Whether `a` reaches further than `b`; of two that reach as far, the one added first. */
function reachesFurther(a: Held, b: Held): boolean {
  if (a.hi === b.hi) return a.seq < b.seq;
  if (a.hi === undefined) return true;
  if (b.hi === undefined) return false;
  return a.hi > b.hi;
}

/**
 * The ranges a LoadedState holds, and the one a key falls in that reaches furthest: a hook
 * may load a queue's head first and a longer slice of it later (vm/telemetry/close.ts),
 * and a listing then runs on the longer one. A block's load holds one range per listed
 * prefix, hundreds in a block that closes an interval for hundreds of devices (one listing
 * each), and every listing and every read of an absent key looks one up: found by binary
 * search over the ranges sorted by start, with each position's furthest-reaching range
 * among those starting at or before it, not by a scan of them all.
 */
export class LoadedRanges {
  private readonly held: Held[] = [];
  /** By start, ascending; undefined after an addition until the next lookup. */
  private sorted: Held[] | undefined = [];
  /** reach[i]: of sorted[0..i], the range that reaches furthest. */
  private reach: Held[] = [];

  add(range: LoadedRange): void {
    this.held.push({ range, lo: byteId(range.lo), hi: range.hi === undefined ? undefined : byteId(range.hi), seq: this.held.length });
    this.sorted = undefined;
  }

  /** The range holding `key` that reaches furthest (of those that reach as far, the first added), or undefined. */
  at(key: Uint8Array): LoadedRange | undefined {
    const sorted = this.index();
    const k = byteId(key);
    // The ranges starting at or before the key are sorted[0..n).
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]!.lo <= k) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return undefined;
    // Of those, the furthest-reaching holds the key if any does.
    const best = this.reach[lo - 1]!;
    return best.hi === undefined || k < best.hi ? best.range : undefined;
  }

  private index(): Held[] {
    if (this.sorted !== undefined) return this.sorted;
    const sorted = [...this.held].sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : a.seq - b.seq));
    const reach: Held[] = [];
    for (const h of sorted) {
      const prev = reach[reach.length - 1];
      reach.push(prev === undefined || reachesFurther(h, prev) ? h : prev);
    }
    this.sorted = sorted;
    this.reach = reach;
    return sorted;
  }
}
