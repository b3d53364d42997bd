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
  private readonly writes = new Map<string, StateChange>();
  /** This layer's written ids in byte order; rebuilt on demand after a new key is written. */
  private sorted: string[] | undefined;

  constructor(base: StateReader) {
    this.base = base;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    const w = this.writes.get(byteId(key));
    return w !== undefined ? w.value : this.base.get(key);
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.write(byteId(key), { key, value });
  }

  delete(key: Uint8Array): void {
    this.write(byteId(key), { key, value: undefined });
  }

  private write(id: string, change: StateChange): void {
    if (this.sorted !== undefined && !this.writes.has(id)) this.sorted = undefined;
    this.writes.set(id, change);
  }

  /** Folds a child overlay's writes into this one. */
  absorb(child: StateOverlay): void {
    for (const [k, change] of child.writes) this.write(k, change);
  }

  get size(): number {
    return this.writes.size;
  }

  /** The writes sorted by key: a defined order, independent of the order of execution. */
  changes(): StateChange[] {
    return [...this.writes.values()].sort((a, b) => compareBytes(a.key, b.key));
  }

  *iterate(prefix: Uint8Array, from?: Uint8Array): IterableIterator<StateEntry> {
    const own = this.ownIds(prefix, iterationStart(prefix, from));
    const base = this.base.iterate(prefix, from);
    try {
      // The base is advanced only after an entry is handed out: stopping early pulls nothing more.
      let b = base.next();
      let i = 0;
      for (;;) {
        const o = own[i];
        const bid = b.done === true ? undefined : byteId(b.value[0]);
        if (o === undefined && bid === undefined) return;
        if (o !== undefined && (bid === undefined || o <= bid)) {
          // This layer's write wins over (and so skips) the base's entry for the same key.
          i++;
          const w = this.writes.get(o)!;
          if (w.value !== undefined) yield [w.key, w.value];
          if (o === bid) b = base.next();
          continue;
        }
        const [key, value] = b.value!;
        const w = this.writes.get(bid!);
        if (w === undefined) yield [key, value];
        else if (w.value !== undefined) yield [key, w.value];
        b = base.next();
      }
    } finally {
      base.return?.();
    }
  }

  /** Ids of this layer's writes under `prefix`, from `start`, in byte order (a copy: writes may follow). */
  private ownIds(prefix: Uint8Array, start: Uint8Array): string[] {
    if (this.writes.size === 0) return [];
    this.sorted ??= [...this.writes.keys()].sort();
    const p = byteId(prefix);
    const out: string[] = [];
    for (let i = lowerBound(this.sorted, byteId(start)); i < this.sorted.length; i++) {
      const id = this.sorted[i]!;
      if (!id.startsWith(p)) break;
      out.push(id);
    }
    return out;
  }
}
