import { compareBytes } from '../core/bytes.ts';

/** One state entry: a key and its (present) value. */
export type StateEntry = readonly [key: Uint8Array, value: Uint8Array];

/** Synchronous read access to state; vm/ sees state only through this. */
export interface StateReader {
  get(key: Uint8Array): Uint8Array | undefined;
  /**
   * The entries whose key starts with `prefix`, in ascending byte order of the key, from
   * the first key >= `from` when given. Lazy: stop early and nothing more is read.
   * Deterministic: the order is the keys' bytes, never the order of writes.
   */
  iterate(prefix: Uint8Array, from?: Uint8Array): IterableIterator<StateEntry>;
}

/** One change: a value, or `undefined` for a deletion. */
export interface StateChange {
  readonly key: Uint8Array;
  readonly value: Uint8Array | undefined;
}

/** The state with nothing in it. */
export const EMPTY_STATE: StateReader = {
  get: () => undefined,
  iterate: () => [][Symbol.iterator](),
};

/** Where byteId decodes: copying a key into one buffer costs less than a Buffer view made per call. */
let scratch = Buffer.allocUnsafe(256);

/** A Map key for bytes. Latin-1 keeps one char per byte, so comparing two ids with `<` is byte order. */
export function byteId(key: Uint8Array): string {
  if (key.length > scratch.length) scratch = Buffer.allocUnsafe(2 * key.length);
  scratch.set(key);
  return scratch.toString('latin1', 0, key.length);
}

/**
 * The first `limit` entries under `prefix` (from `from`), each read only when the loop asks for it: a
 * loop that stops at the first entry not yet due reads nothing after it, and none reads
 * past `limit`. A slice the node loaded with that limit (a hook's declared range) ends
 * there, and asking it for one entry more throws; so a hook's loop over its due entries
 * takes them through this, never `for (e of iterate()) { if (n++ >= limit) break; }`,
 * which pulls entry limit + 1 first.
 */
export function* headEntries(state: StateReader, prefix: Uint8Array, limit: number, from?: Uint8Array): Generator<StateEntry, void, undefined> {
  const it = state.iterate(prefix, from);
  try {
    for (let n = 0; n < limit; n++) {
      const r = it.next();
      if (r.done === true) return;
      yield r.value;
    }
  } finally {
    it.return?.();
  }
}

/** headEntries, all of them at once. */
export function firstEntries(state: StateReader, prefix: Uint8Array, limit: number): StateEntry[] {
  return [...headEntries(state, prefix, limit)];
}

/** The first entry under `prefix` (undefined: none), without reading further. */
export function firstEntry(state: StateReader, prefix: Uint8Array): StateEntry | undefined {
  return firstEntries(state, prefix, 1)[0];
}

/** Where iteration of `prefix` from `from` starts: the later of the two. */
export function iterationStart(prefix: Uint8Array, from: Uint8Array | undefined): Uint8Array {
  return from !== undefined && compareBytes(from, prefix) > 0 ? from : prefix;
}

/** Index of the first id >= `target` in a sorted array. */
export function lowerBound(sorted: readonly string[], target: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One write of an overlay: its value (`undefined`: deleted), and when its key was first written there. */
interface Write {
  readonly id: string;
  key: Uint8Array;
  value: Uint8Array | undefined;
  /** Sequence number of the key's first write in this layer: iterations begun before it skip it. */
  readonly born: number;
}

/**
 * The bucket of an id, a number that sorts as the ids do: ids of two bytes or more by their
 * first two bytes (a kind of record and its bucket, core/state-keys.ts), a shorter id just
 * before the ids it begins.
 */
function bucketOf(id: string): number {
  if (id.length >= 2) return ((id.charCodeAt(0) << 8) | id.charCodeAt(1)) * 2 + 1;
  return id.length === 1 ? id.charCodeAt(0) * 512 : -1;
}

/**
 * One bucket of an overlay's writes: those in byte order of the key, and those written
 * since it was last listed, sorted and merged in only when it is listed again. So a new
 * key costs an append, a bucket never listed is sorted once (by `changes()`), and one
 * listed again after writes sorts only what is new: a few new keys are put in place by
 * binary search, more are merged in one pass.
 */
class Bucket {
  sorted: Write[] = [];
  pending: Write[] = [];
  /** Bumped by every merge: positions held across one are looked up again. */
  version = 0;

  flush(writes: ReadonlyMap<string, Write>): void {
    if (this.pending.length === 0) return;
    // Sorting the ids themselves keeps the comparison native (no comparator call per pair).
    const ids = this.pending.map((w) => w.id).sort();
    this.pending = [];
    const old = this.sorted;
    if (ids.length <= 16 && ids.length * 8 <= old.length) {
      // A few new keys in a large bucket (a listing after each write): put each in place,
      // a binary search and one native move, rather than a new array.
      for (const id of ids) old.splice(lowerBoundOf(old, id, false), 0, writes.get(id)!);
      this.version++;
      return;
    }
    const out = new Array<Write>(old.length + ids.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < old.length && j < ids.length) out[k++] = old[i]!.id < ids[j]! ? old[i++]! : writes.get(ids[j++]!)!;
    while (i < old.length) out[k++] = old[i++]!;
    while (j < ids.length) out[k++] = writes.get(ids[j++]!)!;
    this.sorted = out;
    this.version++;
  }
}

/** Index of the first write whose id is >= `id` (> when `after`) in a sorted array. */
function lowerBoundOf(sorted: readonly Write[], id: string, after: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const m = sorted[mid]!.id;
    if (m < id || (after && m === id)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Walks one layer's writes under a prefix in byte order, bucket after bucket, skipping keys
 * first written after `snapshot`. Holds its place as an index while its bucket is not
 * merged again, and finds it again from the last write it passed when it was.
 */
class OwnCursor {
  private readonly buckets: readonly Bucket[];
  private readonly writes: ReadonlyMap<string, Write>;
  private readonly prefix: string;
  private readonly snapshot: number;
  /** Where to look up the place again: the last write passed, or the start. */
  private from: string;
  private passed = false;
  private b = 0;
  private i = 0;
  private version = Number.NaN;

  constructor(buckets: readonly Bucket[], writes: ReadonlyMap<string, Write>, prefix: string, start: string, snapshot: number) {
    this.buckets = buckets;
    this.writes = writes;
    this.prefix = prefix;
    this.from = start;
    this.snapshot = snapshot;
  }

  /** The next write listed, or undefined when the prefix is done. */
  next(): Write | undefined {
    while (this.b < this.buckets.length) {
      const bucket = this.buckets[this.b]!;
      // Entering a bucket: what it holds from before the snapshot must be merged in.
      if (Number.isNaN(this.version)) bucket.flush(this.writes);
      if (this.version !== bucket.version) {
        this.i = lowerBoundOf(bucket.sorted, this.from, this.passed);
        this.version = bucket.version;
      }
      const s = bucket.sorted;
      while (this.i < s.length) {
        const w = s[this.i++]!;
        if (!w.id.startsWith(this.prefix)) {
          this.b = this.buckets.length;
          return undefined;
        }
        this.from = w.id;
        this.passed = true;
        if (w.born <= this.snapshot) return w;
      }
      this.b++;
      this.version = Number.NaN;
    }
    return undefined;
  }
}

/**
 * A copy-on-write layer over a reader. Executing a block writes here; nothing reaches the
 * base until the node commits `changes()`. Overlays nest (a tx's overlay over the block's)
 * so a failed tx can be discarded without touching what came before it.
 *
 * Iteration merges this layer's writes over the base's entries: a write replaces the
 * base's value, a deletion hides it. Keys first written after `iterate` was called are not
 * listed by that iteration; other entries are listed with the value they have when reached.
 */
export class StateOverlay implements StateReader {
  private readonly base: StateReader;
  private readonly writes = new Map<string, Write>();
  /** The same writes by bucket (bucketOf), and the bucket numbers in ascending order. */
  private readonly buckets = new Map<number, Bucket>();
  private readonly order: number[] = [];
  /** New keys written so far: a key's `born`, an iteration's snapshot. */
  private born = 0;
  /** Writes made so far, new keys or not: an iteration with none of this layer's under its prefix passes the base's entries on while this stays put. */
  private writesMade = 0;

  constructor(base: StateReader) {
    this.base = base;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    const w = this.writes.get(byteId(key));
    return w !== undefined ? w.value : this.base.get(key);
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.write(byteId(key), key, value);
  }

  delete(key: Uint8Array): void {
    this.write(byteId(key), key, undefined);
  }

  private write(id: string, key: Uint8Array, value: Uint8Array | undefined): void {
    this.writesMade++;
    const w = this.writes.get(id);
    if (w !== undefined) {
      w.key = key;
      w.value = value;
      return;
    }
    const fresh: Write = { id, key, value, born: ++this.born };
    this.writes.set(id, fresh);
    const n = bucketOf(id);
    let bucket = this.buckets.get(n);
    if (bucket === undefined) {
      bucket = new Bucket();
      this.buckets.set(n, bucket);
      let at = this.order.length;
      while (at > 0 && this.order[at - 1]! > n) at--;
      this.order.splice(at, 0, n);
    }
    bucket.pending.push(fresh);
  }

  /** Folds a child overlay's writes into this one. */
  absorb(child: StateOverlay): void {
    for (const w of child.writes.values()) this.write(w.id, w.key, w.value);
  }

  get size(): number {
    return this.writes.size;
  }

  /** The writes sorted by key: a defined order, independent of the order of execution. */
  changes(): StateChange[] {
    const out: StateChange[] = [];
    for (const n of this.order) {
      const bucket = this.buckets.get(n)!;
      bucket.flush(this.writes);
      for (const w of bucket.sorted) out.push({ key: w.key, value: w.value });
    }
    return out;
  }

  /** The buckets that may hold ids under `prefix`, in order. */
  private bucketsUnder(prefix: string): Bucket[] {
    if (prefix.length >= 2) {
      const b = this.buckets.get(bucketOf(prefix));
      return b === undefined ? [] : [b];
    }
    const lo = prefix.length === 0 ? -1 : prefix.charCodeAt(0) * 512;
    const hi = prefix.length === 0 ? Number.POSITIVE_INFINITY : lo + 511;
    return this.order.filter((n) => n >= lo && n <= hi).map((n) => this.buckets.get(n)!);
  }

  *iterate(prefix: Uint8Array, from?: Uint8Array): IterableIterator<StateEntry> {
    const p = byteId(prefix);
    const own = new OwnCursor(this.bucketsUnder(p), this.writes, p, byteId(iterationStart(prefix, from)), this.born);
    const base = this.base.iterate(prefix, from);
    try {
      // The base is advanced only after an entry is handed out: stopping early pulls nothing more.
      let b = base.next();
      let o = own.next();
      if (o === undefined) {
        // This layer holds nothing under the prefix: the base's entries are listed as they are,
        // without an id made and looked up for each, until this layer is written to (a
        // read-only walk of a book never is). Keys first written since are not listed anyway.
        const made = this.writesMade;
        while (b.done !== true && this.writesMade === made) {
          yield b.value;
          b = base.next();
        }
      }
      let bid = b.done === true ? undefined : byteId(b.value[0]);
      for (;;) {
        if (o === undefined && bid === undefined) return;
        if (o !== undefined && (bid === undefined || o.id <= bid)) {
          // This layer's write wins over (and so skips) the base's entry for the same key.
          const same = o.id === bid;
          if (o.value !== undefined) yield [o.key, o.value];
          o = own.next();
          if (same) {
            b = base.next();
            bid = b.done === true ? undefined : byteId(b.value[0]);
          }
          continue;
        }
        const [key, value] = b.value!;
        const w = this.writes.get(bid!);
        if (w === undefined) yield [key, value];
        else if (w.value !== undefined) yield [key, w.value];
        b = base.next();
        bid = b.done === true ? undefined : byteId(b.value[0]);
      }
    } finally {
      base.return?.();
    }
  }
}
