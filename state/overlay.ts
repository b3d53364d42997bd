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

/** A Map key for bytes. Latin-1 keeps one char per byte, so comparing two ids with `<` is byte order. */
export function byteId(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
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

/** Writes per chunk of the sorted index before it is split in two. */
const CHUNK_MAX = 1024;

/**
 * An overlay's writes in byte order of the key, kept sorted as keys arrive: a list of
 * sorted chunks (at most CHUNK_MAX each), so a new key costs two binary searches and a
 * short splice, and listing never sorts. Keys are never removed (a deletion is a write).
 */
class SortedWrites {
  readonly chunks: Write[][] = [];
  /** Bumped by every insertion: positions held across one are looked up again. */
  version = 0;

  insert(w: Write): void {
    this.version++;
    const cs = this.chunks;
    if (cs.length === 0) {
      cs.push([w]);
      return;
    }
    const c = this.chunkFor(w.id);
    const chunk = cs[c]!;
    chunk.splice(lowerBoundOf(chunk, w.id, false), 0, w);
    if (chunk.length > CHUNK_MAX) cs.splice(c + 1, 0, chunk.splice(CHUNK_MAX >>> 1));
  }

  /** The first chunk whose last id is >= `id` (> when `after`), else the last chunk. */
  private chunkFor(id: string, after = false): number {
    const cs = this.chunks;
    let lo = 0;
    let hi = cs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const last = cs[mid]![cs[mid]!.length - 1]!.id;
      if (last < id || (after && last === id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Where the first id >= `id` (> when `after`) is, as [chunk, index]; past the end when none. */
  seek(id: string, after: boolean): [number, number] {
    if (this.chunks.length === 0) return [0, 0];
    const c = this.chunkFor(id, after);
    const i = lowerBoundOf(this.chunks[c]!, id, after);
    return i < this.chunks[c]!.length ? [c, i] : [c + 1, 0];
  }
}

/** Index of the first write whose id is >= `id` (> when `after`) in a sorted chunk. */
function lowerBoundOf(chunk: readonly Write[], id: string, after: boolean): number {
  let lo = 0;
  let hi = chunk.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const m = chunk[mid]!.id;
    if (m < id || (after && m === id)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Walks one layer's writes under a prefix in byte order, skipping keys first written after
 * `snapshot`. Holds its place as (chunk, index) while no key is inserted, and finds it
 * again from the last write it returned when one was.
 */
class OwnCursor {
  private readonly list: SortedWrites;
  private readonly prefix: string;
  private readonly snapshot: number;
  /** The id to look up again after an insertion: the last write passed, or where to start. */
  private from: string;
  private passed = false;
  private c = 0;
  private i = 0;
  private version = Number.NaN;
  private done = false;

  constructor(list: SortedWrites, prefix: string, start: string, snapshot: number) {
    this.list = list;
    this.prefix = prefix;
    this.snapshot = snapshot;
    this.from = start;
  }

  /** The next write listed, or undefined when the prefix is done. */
  next(): Write | undefined {
    if (this.done) return undefined;
    const cs = this.list.chunks;
    if (this.version !== this.list.version) {
      [this.c, this.i] = this.list.seek(this.from, this.passed);
      this.version = this.list.version;
    } else if (this.passed) this.step();
    while (this.c < cs.length) {
      const w = cs[this.c]![this.i]!;
      if (!w.id.startsWith(this.prefix)) break;
      this.from = w.id;
      this.passed = true;
      if (w.born <= this.snapshot) return w;
      this.step();
    }
    this.done = true;
    return undefined;
  }

  private step(): void {
    if (++this.i >= this.list.chunks[this.c]!.length) {
      this.c++;
      this.i = 0;
    }
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
  /** The same writes in byte order of the key. */
  private readonly sorted = new SortedWrites();
  /** New keys written so far: a key's `born`, an iteration's snapshot. */
  private born = 0;

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
    const w = this.writes.get(id);
    if (w !== undefined) {
      w.key = key;
      w.value = value;
      return;
    }
    const fresh: Write = { id, key, value, born: ++this.born };
    this.writes.set(id, fresh);
    this.sorted.insert(fresh);
  }

  /** Folds a child overlay's writes into this one. */
  absorb(child: StateOverlay): void {
    // In key order: each new key lands at or after the previous one, where the search is short.
    for (const chunk of child.sorted.chunks) for (const w of chunk) this.write(w.id, w.key, w.value);
  }

  get size(): number {
    return this.writes.size;
  }

  /** The writes sorted by key: a defined order, independent of the order of execution. */
  changes(): StateChange[] {
    const out: StateChange[] = [];
    for (const chunk of this.sorted.chunks) for (const w of chunk) out.push({ key: w.key, value: w.value });
    return out;
  }

  *iterate(prefix: Uint8Array, from?: Uint8Array): IterableIterator<StateEntry> {
    const own = new OwnCursor(this.sorted, byteId(prefix), byteId(iterationStart(prefix, from)), this.born);
    const base = this.base.iterate(prefix, from);
    try {
      // The base is advanced only after an entry is handed out: stopping early pulls nothing more.
      let b = base.next();
      let bid = b.done === true ? undefined : byteId(b.value[0]);
      let o = own.next();
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
