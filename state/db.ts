import { Level } from 'level';
import { concatBytes, u64be, utf8 } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';

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
  /** node hash(32) -> state tree node record (state/tree-store.ts); never deleted */
  stateNode: 0x10,
  /** state key -> latest value (the flat state the VM reads) */
  stateValue: 0x11,
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
  /** 32-byte state root after the head block; written in the same batch as the state */
  stateRoot: 'state-root',
} as const;

export const SCHEMA_VERSION = 1;

export function dbKey(prefix: DbPrefix, id: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([prefix]), id);
}

export function heightKey(prefix: DbPrefix, height: number): Uint8Array {
  return dbKey(prefix, u64be(height));
}

export function metaDbKey(name: string): Uint8Array {
  return dbKey(DbPrefix.meta, utf8(name));
}

/** The smallest key greater than every key starting with `prefix` (undefined if none). */
function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

/** LevelDB hands back Buffers; the rest of the node sees plain Uint8Arrays (same memory). */
function plain(b: Uint8Array): Uint8Array {
  return Buffer.isBuffer(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : b;
}

type Op = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

/**
 * Writes collected for one atomic commit (a block: block, receipts, indexes, state nodes,
 * flat state, head pointer). Nothing touches the disk until `write()`, which fsyncs.
 */
export class DbBatch {
  private readonly db: Level<Uint8Array, Uint8Array>;
  private ops: Op[] = [];
  private byteCount = 0;
  private written = false;

  constructor(db: Level<Uint8Array, Uint8Array>) {
    this.db = db;
  }

  put(key: Uint8Array, value: Uint8Array): this {
    this.ops.push({ type: 'put', key, value });
    this.byteCount += key.length + value.length;
    return this;
  }

  del(key: Uint8Array): this {
    this.ops.push({ type: 'del', key });
    this.byteCount += key.length;
    return this;
  }

  /** Operations queued. */
  get length(): number {
    return this.ops.length;
  }

  /** Key and value bytes queued (for metrics and benchmarks). */
  get bytes(): number {
    return this.byteCount;
  }

  /** Writes every operation atomically with fsync; a batch is written at most once. */
  async write(): Promise<void> {
    if (this.written) throw new JouleError(ErrorCode.STORE_MISMATCH, 'batch already written');
    this.written = true;
    const ops = this.ops;
    this.ops = [];
    if (ops.length > 0) await this.db.batch(ops, { sync: true });
  }
}

export interface IterateOptions {
  /** Start at the first key >= this (inside the prefix). */
  readonly from?: Uint8Array;
  readonly reverse?: boolean;
  readonly limit?: number;
}

export class Database {
  private readonly db: Level<Uint8Array, Uint8Array>;
  readonly path: string;

  private constructor(db: Level<Uint8Array, Uint8Array>, path: string) {
    this.db = db;
    this.path = path;
  }

  static async open(path: string): Promise<Database> {
    const db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' });
    try {
      await db.open();
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === 'LEVEL_LOCKED') {
        throw new JouleError(ErrorCode.UNAVAILABLE, `database at ${path} is in use by another process`);
      }
      throw new JouleError(ErrorCode.STORE_CORRUPT, `cannot open database at ${path}: ${cause?.message ?? (e as Error).message}`);
    }
    return new Database(db, path);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const v = await this.db.get(key);
    return v === undefined ? undefined : plain(v);
  }

  async has(key: Uint8Array): Promise<boolean> {
    return (await this.db.get(key)) !== undefined;
  }

  /** Every [key, value] whose key starts with `prefix` (a DbPrefix byte or longer), in key order. */
  async *iterate(prefix: Uint8Array | DbPrefix, options: IterateOptions = {}): AsyncGenerator<[Uint8Array, Uint8Array]> {
    const p = typeof prefix === 'number' ? new Uint8Array([prefix]) : prefix;
    const end = prefixEnd(p);
    const gte = options.from !== undefined && Buffer.compare(options.from, p) > 0 ? options.from : p;
    const range = end === undefined ? { gte } : { gte, lt: end };
    const it = this.db.iterator({ ...range, reverse: options.reverse ?? false, limit: options.limit ?? -1 });
    try {
      for await (const [k, v] of it) yield [plain(k), plain(v)];
    } finally {
      await it.close();
    }
  }

  batch(): DbBatch {
    return new DbBatch(this.db);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
