import { compareBytes, concatBytes, toHex } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { hasPrefix, prefixEnd } from './keys.ts';
import { LoadedRanges } from './loaded-ranges.ts';
import { byteId, iterationStart, lowerBound, type StateEntry, type StateReader } from './overlay.ts';

/**
 * What a block (or any synchronous reader) will read: single keys, whole prefixes (small
 * record kinds a hook lists), and bounded slices of a prefix (a page of a listing).
 */
export interface Access {
  readonly keys?: readonly Uint8Array[];
  readonly prefixes?: readonly Uint8Array[];
  readonly ranges?: readonly { readonly prefix: Uint8Array; readonly from?: Uint8Array; readonly limit: number }[];
}

/** The committed state a LoadedState reads from (state/world-state.ts). */
export interface StateSource {
  /** Height of the committed state; a LoadedState is only valid while it does not change. */
  readonly version: number;
  readonly strictAccess: boolean;
  /** Synchronous committed read (cache, else LevelDB on this thread). */
  get(key: Uint8Array): Uint8Array | undefined;
  readMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  readRange(prefix: Uint8Array, from: Uint8Array | undefined, limit: number): Promise<StateEntry[]>;
  /** Prefixes held wholly in memory: listed synchronously, never loaded. */
  isResident(prefix: Uint8Array): boolean;
  iterate(prefix: Uint8Array, from?: Uint8Array): IterableIterator<StateEntry>;
  /** A read of a key nobody loaded, served by `get` (counted and reported by the source). */
  unprefetched(key: Uint8Array): void;
}

/**
 * A read of state that was not loaded before a block ran: the access list of a handler or
 * hook is wrong. An internal error, not a verdict on the block (vm/executor.ts treats
 * anything but a JouleError as a bug and refuses to go on).
 */
export class StateAccessError extends Error {
  constructor(what: string) {
    super(`state read outside the loaded set: ${what} (a handler's keys() or a hook's prefixes() misses it)`);
    this.name = 'StateAccessError';
  }
}

/**
 * A block was committed while a view was loading or being read: the view no longer shows
 * one height. A reader that only lists (RPC) starts again on the new head; a block being
 * built or verified on it is abandoned.
 */
export class StateMovedError extends JouleError {
  constructor(from: number, to: number) {
    super(ErrorCode.STORE_MISMATCH, `the state moved from height ${from} to ${to} while a view of it was loaded and read`);
    this.name = 'StateMovedError';
  }
}

/**
 * The state a block runs on: the committed state, with every key the block declared
 * loaded beforehand (WorldState.load), so execution stays synchronous and does no I/O.
 *
 * A read of something not loaded means an access list is wrong. In strict mode (tests,
 * devnets) it throws StateAccessError. Otherwise a single key is read synchronously from
 * the committed store (the same value on every node: only the timing differs), counted
 * and logged so the wrong access list is found and fixed; listing a prefix that was not
 * loaded has no synchronous fallback and always throws.
 */
export class LoadedState implements StateReader {
  private readonly source: StateSource;
  private readonly version: number;
  private readonly values = new Map<string, Uint8Array | null>();
  private readonly ranges = new LoadedRanges();

  constructor(source: StateSource) {
    this.source = source;
    this.version = source.version;
  }

  private checkVersion(): void {
    if (this.source.version !== this.version) {
      throw new StateMovedError(this.version, this.source.version);
    }
  }

  /** Loads more (the block builder loads candidates batch by batch). */
  async load(access: Access): Promise<void> {
    this.checkVersion();
    const keys = (access.keys ?? []).filter((k) => !this.values.has(byteId(k)) && !this.covered(k) && !this.resident(k));
    const [values, whole, parts] = await Promise.all([
      this.source.readMany(keys),
      Promise.all(
        (access.prefixes ?? []).filter((p) => !this.source.isResident(p)).map((p) => this.source.readRange(p, undefined, Infinity).then((e) => ({ p, e }))),
      ),
      Promise.all((access.ranges ?? []).filter((r) => r.limit > 0).map((r) => this.source.readRange(r.prefix, r.from, r.limit).then((e) => ({ r, e })))),
    ]);
    this.checkVersion();
    keys.forEach((k, i) => this.values.set(byteId(k), values[i] ?? null));
    for (const { p, e } of whole) this.addRange(p, prefixEnd(p), e);
    for (const { r, e } of parts) {
      // A range cut by its limit is complete only up to (and including) its last entry.
      const lo = iterationStart(r.prefix, r.from);
      const hi = e.length < r.limit ? prefixEnd(r.prefix) : concatBytes(e[e.length - 1]![0], new Uint8Array([0]));
      this.addRange(lo, hi, e);
    }
  }

  private addRange(lo: Uint8Array, hi: Uint8Array | undefined, entries: readonly StateEntry[]): void {
    this.ranges.add({ lo, hi, entries, ids: entries.map(([k]) => byteId(k)) });
    for (const [k, v] of entries) this.values.set(byteId(k), v);
  }

  private covered(key: Uint8Array): boolean {
    return this.ranges.at(key) !== undefined;
  }

  private resident(key: Uint8Array): boolean {
    return this.source.isResident(key);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    const v = this.values.get(byteId(key));
    if (v !== undefined) return v ?? undefined;
    if (this.covered(key)) return undefined;
    this.checkVersion();
    if (this.resident(key)) return this.source.get(key);
    if (this.source.strictAccess) throw new StateAccessError(`key 0x${toHex(key)}`);
    this.source.unprefetched(key);
    const read = this.source.get(key);
    this.values.set(byteId(key), read ?? null);
    return read;
  }

  *iterate(prefix: Uint8Array, from?: Uint8Array): IterableIterator<StateEntry> {
    this.checkVersion();
    if (this.source.isResident(prefix)) {
      yield* this.source.iterate(prefix, from);
      return;
    }
    const start = iterationStart(prefix, from);
    if (!hasPrefix(start, prefix)) return; // `from` lies past every key of the prefix
    const end = prefixEnd(prefix);
    const range = this.ranges.at(start);
    if (range === undefined) throw new StateAccessError(`listing of prefix 0x${toHex(prefix)}`);
    for (let i = lowerBound(range.ids, byteId(start)); i < range.entries.length; i++) {
      const entry = range.entries[i]!;
      if (!hasPrefix(entry[0], prefix)) return;
      yield entry;
    }
    if (range.hi !== undefined && (end === undefined || compareBytes(range.hi, end) < 0)) {
      throw new StateAccessError(`listing of prefix 0x${toHex(prefix)} beyond the loaded ${range.entries.length} entries`);
    }
  }
}
