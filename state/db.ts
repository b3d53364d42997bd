import { Level } from 'level';
import { concatBytes, u64be, utf8 } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { guardStorage, guardStorageAsync, storageFailure } from '../core/storage-error.ts';
import { prefixEnd } from './keys.ts';

/**
 * The node's one LevelDB. Every kind of record lives under its own one-byte key prefix,
 * all defined here so no two parts can collide. Heights in keys are 8-byte big-endian so
 * that records iterate in height order.
 */
export const DbPrefix = {
  /** height(u64be) -> encoded block (header + body) */
  block: 0x01,
  /** block hash(32) -> height(u64be) */
  blockHash: 0x02,
  /** height(u64be) -> encoded commit certificate */
  certificate: 0x03,
  /** height(u64be) -> encoded receipts of the block */
  receipts: 0x04,
  /** tx hash(32) -> [height(u64be), index(u32be)] */
  txIndex: 0x05,
  /** u8(len deviceId) ++ deviceId ++ timestampUs(u64be) -> a counted reading (node/chain/readings-index.ts) */
  readings: 0x06,
  /** version(u64be) ++ node hash(32) -> state tree node record (state/tree-store.ts) */
  stateNode: 0x10,
  /** state key -> latest value (the flat state the VM reads) */
  stateValue: 0x11,
  /** stale height(u64be) ++ node version(u64be) ++ hash(32) -> empty: what pruning deletes (state/pruner.ts) */
  stateStale: 0x12,
  /** version(u64be) -> the root of the state at that height (state/tree-store.ts) */
  stateRoot: 0x13,
  /** utf8 name -> value: see MetaKey */
  meta: 0x20,
  /** consensus extras (validator-set history, evidence, ...): sub-keys owned by consensus/node */
  consensus: 0x30,
} as const;
export type DbPrefix = (typeof DbPrefix)[keyof typeof DbPrefix];

/** Names under DbPrefix.meta. */
export const MetaKey = {
  /** u64be height of the last committed block */
  head: 'head',
  genesisHash: 'genesis-hash',
  /** u32be schema version of this database (SCHEMA_VERSION) */
  schemaVersion: 'schema-version',
  /** u64be version (height) ++ root of the state after the head block; written in the same batch as the state */
  stateRoot: 'state-root',
  /** u64be: the oldest height whose state is still provable (state/pruner.ts); absent: 0 */
  stateOldest: 'state-oldest',
} as const;

/** 2: tree nodes keyed by (version, hash), per-height roots, stale index (issue 7). */
export const SCHEMA_VERSION = 2;

export function dbKey(prefix: DbPrefix, id: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([prefix]), id);
}

export function heightKey(prefix: DbPrefix, height: number): Uint8Array {
  return dbKey(prefix, u64be(height));
}

export function metaDbKey(name: string): Uint8Array {
  return dbKey(DbPrefix.meta, utf8(name));
}

/** LevelDB hands back Buffers; the rest of the node sees plain Uint8Arrays (same memory). */
function plain(b: Uint8Array): Uint8Array {
  return Buffer.isBuffer(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : b;
}

/**
 * Writes collected for one atomic commit (a block: block, receipts, indexes, state nodes,
 * flat state, head pointer). Nothing touches the disk until `write()`. Built on LevelDB's
 * chained batch: each put goes straight to the native batch, two to four times cheaper on
 * this thread than an array of operations for the tens of thousands a block writes.
 */
export class DbBatch {
  private readonly batch: ReturnType<Level<Uint8Array, Uint8Array>['batch']>;
  private byteCount = 0;
  private count = 0;
  private written = false;
  private readonly path: string;

  constructor(db: Level<Uint8Array, Uint8Array>, path: string) {
    this.batch = db.batch();
    this.path = path;
  }

  put(key: Uint8Array, value: Uint8Array): this {
    this.batch.put(key, value);
    this.byteCount += key.length + value.length;
    this.count++;
    return this;
  }

  del(key: Uint8Array): this {
    this.batch.del(key);
    this.byteCount += key.length;
    this.count++;
    return this;
  }

  /** Operations queued. */
  get length(): number {
    return this.count;
  }

  /** Key and value bytes queued (for metrics and benchmarks). */
  get bytes(): number {
    return this.byteCount;
  }

  /**
   * Writes every operation atomically; a batch is written at most once. `sync` (default)
   * fsyncs before resolving. Without it a crash may lose the batch, but never part of it,
   * and never a batch without the ones written before it (LevelDB's log is sequential):
   * for work that is merely redone after a crash (pruning).
   */
  async write(options: { sync?: boolean } = {}): Promise<void> {
    if (this.written) throw new JouleError(ErrorCode.STORE_MISMATCH, 'batch already written');
    this.written = true;
    if (this.count === 0) {
      await this.batch.close();
      return;
    }
    // A full or read-only disk: STORAGE_FAILED (fatal, never blamed on whoever sent the block).
    // LevelDB then refuses every later write until the database is reopened (its log's state
    // is unknown), so the node halts rather than retry; nothing of the batch was applied.
    await guardStorageAsync(this.path, 'db-write', () => this.batch.write({ sync: options.sync ?? true }));
  }
}

export interface IterateOptions {
  /** Start at the first key >= this (inside the prefix). */
  readonly from?: Uint8Array;
  readonly reverse?: boolean;
  readonly limit?: number;
}

export interface OpenOptions {
  /** LevelDB's block cache in bytes (default 16 MiB). */
  readonly blockCacheBytes?: number;
  /** LevelDB's memtable size in bytes (default 8 MiB): larger absorbs bigger batches before a flush. */
  readonly writeBufferBytes?: number;
}

export class Database {
  private readonly db: Level<Uint8Array, Uint8Array>;
  readonly path: string;
  /** Records read, by the first byte of their key (DbPrefix): what a code path cost in reads. */
  readonly reads = new Float64Array(256);

  private constructor(db: Level<Uint8Array, Uint8Array>, path: string) {
    this.db = db;
    this.path = path;
  }

  static async open(path: string, options: OpenOptions = {}): Promise<Database> {
    const db = new Level<Uint8Array, Uint8Array>(path, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      cacheSize: options.blockCacheBytes ?? 16 * 1024 * 1024,
      writeBufferSize: options.writeBufferBytes ?? 8 * 1024 * 1024,
    });
    try {
      await db.open();
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === 'LEVEL_LOCKED') {
        throw new JouleError(ErrorCode.UNAVAILABLE, `database at ${path} is in use by another process`);
      }
      const local = storageFailure(e, path, 'db-write');
      if (local !== undefined) throw local;
      throw new JouleError(ErrorCode.STORE_CORRUPT, `cannot open database at ${path}: ${cause?.message ?? (e as Error).message}`);
    }
    return new Database(db, path);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.reads[key[0]!]!++;
    const v = await guardStorageAsync(this.path, 'db-read', () => this.db.get(key));
    return v === undefined ? undefined : plain(v);
  }

  /**
   * A synchronous read (LevelDB's own cache, else the disk, on this thread). For the rare
   * read that cannot be prefetched (state/world-state.ts), never in a loop.
   */
  getSync(key: Uint8Array): Uint8Array | undefined {
    this.reads[key[0]!]!++;
    const v = guardStorage(this.path, 'db-read', () => this.db.getSync(key));
    return v === undefined ? undefined : plain(v);
  }

  /** Values of `keys` in one round trip, in the same order. */
  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    if (keys.length === 0) return [];
    for (const k of keys) this.reads[k[0]!]!++;
    const vs = await guardStorageAsync(this.path, 'db-read', () => this.db.getMany([...keys]));
    return vs.map((v) => (v === undefined ? undefined : plain(v)));
  }

  async has(key: Uint8Array): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  /** Every [key, value] whose key starts with `prefix` (a DbPrefix byte or longer), in key order. */
  async *iterate(prefix: Uint8Array | DbPrefix, options: IterateOptions = {}): AsyncGenerator<[Uint8Array, Uint8Array]> {
    const p = typeof prefix === 'number' ? new Uint8Array([prefix]) : prefix;
    const end = prefixEnd(p);
    const gte = options.from !== undefined && Buffer.compare(options.from, p) > 0 ? options.from : p;
    const range = end === undefined ? { gte } : { gte, lt: end };
    const it = this.db.iterator({ ...range, reverse: options.reverse ?? false, limit: options.limit ?? -1 });
    try {
      // nextv: one native call per chunk of entries rather than per entry
      const next = () => guardStorageAsync(this.path, 'db-read', () => it.nextv(1000));
      for (let chunk = await next(); chunk.length > 0; chunk = await next()) {
        this.reads[p[0]!]! += chunk.length;
        for (const [k, v] of chunk) yield [plain(k), plain(v)];
      }
    } finally {
      await it.close();
    }
  }

  batch(): DbBatch {
    return new DbBatch(this.db, this.path);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
