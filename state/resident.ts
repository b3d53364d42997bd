import { toHex } from '../core/bytes.ts';
import { DbPrefix, dbKey, type Database } from './db.ts';
import { hasPrefix } from './keys.ts';
import { byteId, iterationStart, lowerBound, type StateChange, type StateEntry } from './overlay.ts';

/**
 * Committed records of small, bounded kinds, held wholly in memory so that any
 * synchronous reader (admission's checks, RPC) can list them without loading first. Only
 * for kinds whose size has a bound independent of usage (pending validator votes).
 */
export class ResidentRecords {
  private readonly prefixes: readonly Uint8Array[];
  private readonly records = new Map<string, StateEntry>();
  private sorted: string[] | undefined;

  constructor(prefixes: readonly Uint8Array[]) {
    this.prefixes = prefixes;
  }

  async loadFrom(db: Database): Promise<void> {
    for (const p of this.prefixes) {
      for await (const [k, v] of db.iterate(dbKey(DbPrefix.stateValue, p))) {
        const key = k.slice(1);
        this.records.set(byteId(key), [key, v]);
      }
    }
    this.sorted = undefined;
  }

  /** True if every key starting with `prefix` (or the key itself) belongs to a resident kind. */
  covers(prefixOrKey: Uint8Array): boolean {
    for (const p of this.prefixes) if (hasPrefix(prefixOrKey, p)) return true;
    return false;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.records.get(byteId(key))?.[1];
  }

  apply(c: StateChange): void {
    const id = byteId(c.key);
    if (c.value === undefined) {
      if (this.records.delete(id)) this.sorted = undefined;
      return;
    }
    if (!this.records.has(id)) this.sorted = undefined;
    this.records.set(id, [c.key, c.value]);
  }

  *iterate(prefix: Uint8Array, from?: Uint8Array): IterableIterator<StateEntry> {
    if (!this.covers(prefix)) throw new Error(`prefix 0x${toHex(prefix)} is not resident`);
    this.sorted ??= [...this.records.keys()].sort();
    const ids = this.sorted;
    const p = byteId(prefix);
    for (let i = lowerBound(ids, byteId(iterationStart(prefix, from))); i < ids.length && ids[i]!.startsWith(p); i++) {
      const entry = this.records.get(ids[i]!);
      if (entry !== undefined) yield entry;
    }
  }
}
