import { concatBytes, equalBytes, readU64be, toHex, u64be } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { encodeProof, keyPath } from '../core/proof.ts';
import { DbPrefix, dbKey, MetaKey, metaDbKey, type Database, type DbBatch } from './db.ts';
import { kindPrefix, StatePrefix } from './keys.ts';
import { LoadedState, type Access, type StateSource } from './loaded-state.ts';
import { LruCache } from './lru.ts';
import { byteId, type StateChange, type StateEntry, type StateReader } from './overlay.ts';
import { readOldestProvable, StatePruner } from './pruner.ts';
import { ResidentRecords } from './resident.ts';
import { decodeRootRef, encodeRootRef, encodeStale, MissingNodeError, NodeStore, rootKey, staleKey } from './tree-store.ts';
import { applyChanges, makeLeaf, nodeHash, refOf, sortChanges, withPaths, type Node, type NodeRef, type Subtree } from './tree.ts';

export interface WorldStateOptions {
  /** Bytes of flat values kept in memory (LRU; default 64 MiB). */
  readonly valueCacheBytes?: number;
  /** Bytes of tree nodes kept in memory (LRU; default 128 MiB). */
  readonly nodeCacheBytes?: number;
  /** Heights kept provable behind the head (default 1000); older tree nodes are pruned. */
  readonly historyBlocks?: number;
  /** Keep every height provable: no stale index, no pruning. */
  readonly archive?: boolean;
  /** A block reading a key it did not declare fails loudly (tests, devnets) instead of reading it synchronously. */
  readonly strictAccess?: boolean;
  /** Told of every such read when not strict (the node counts and logs it). */
  readonly onUnprefetchedRead?: (key: Uint8Array) => void;
  /** Told when background pruning fails (it is retried at the next commit). */
  readonly onPruneError?: (e: unknown) => void;
  /** Stale nodes deleted per pruning batch (default PRUNE_BATCH_NODES). */
  readonly pruneBatchNodes?: number;
  /**
   * Small record kinds held wholly in memory, listable anywhere without loading (default:
   * pending validator votes, bounded by validators x MAX_OPEN_VOTES, and pending governance
   * proposals, bounded by validators x 16 open votes and expiring).
   */
  readonly residentPrefixes?: readonly Uint8Array[];
}

export const DEFAULT_HISTORY_BLOCKS = 1000;

/** A change with its path, as the tree and the flat state both need it. */
type KeyedChange = StateChange & { readonly keyHash: Uint8Array };

/**
 * The state after applying a block's changes to a base state, computed without touching
 * the base. Several may exist at once (competing proposals); at most one is committed.
 */
export class PreparedState {
  readonly root: Uint8Array;
  readonly baseRoot: Uint8Array;
  readonly baseVersion: number;
  /** The height this state is for: the version of every node it creates. */
  readonly version: number;
  /** Internal to WorldState: the new root, the distinct changes, nodes created and made stale. */
  readonly rootRef: Subtree;
  readonly changes: readonly KeyedChange[];
  readonly newNodes: readonly Node[];
  readonly staleNodes: readonly NodeRef[];
  /** The new nodes' records, once `write` encoded them (commit caches them as they are). */
  records: Uint8Array[] | undefined;

  constructor(
    base: { root: Uint8Array; version: number },
    version: number,
    rootRef: Subtree,
    changes: readonly KeyedChange[],
    newNodes: readonly Node[],
    staleNodes: readonly NodeRef[],
  ) {
    this.baseRoot = base.root;
    this.baseVersion = base.version;
    this.version = version;
    this.rootRef = rootRef;
    this.root = nodeHash(rootRef);
    this.changes = changes;
    this.newNodes = newNodes;
    this.staleNodes = staleNodes;
    this.records = undefined;
  }
}

function valueSize(id: string, v: Uint8Array | null): number {
  return 96 + id.length + (v === null ? 0 : v.length);
}

/** What the state reports about itself (node/metrics/state.ts serves it as gauges). */
export interface StateStats {
  /** Tree nodes read from LevelDB (node cache misses). */
  readonly nodeReads: number;
  readonly nodeCacheEntries: number;
  readonly valueCacheEntries: number;
  /** Flat values read synchronously from LevelDB (value cache misses of `get`). */
  readonly syncReads: number;
  /** Reads by blocks of keys they did not declare (non-strict mode; should stay 0). */
  readonly unprefetchedReads: number;
  /** Heights whose stale tree nodes were pruned since start. */
  readonly prunedHeights: number;
  /** The oldest height a proof can be asked for. */
  readonly oldestProvable: number;
}

/**
 * The latest committed state, persisted in LevelDB and never held whole in memory:
 *   - flat values (DbPrefix.stateValue) behind a bounded LRU cache: what blocks read;
 *   - the authenticated tree: nodes behind a bounded LRU cache (state/tree-store.ts);
 *   - the root of every height in the history window, and the head's root under meta,
 *     written in the same atomic batch as the block.
 * Opening reads the committed root and nothing else that grows with the state: the batch
 * that wrote it wrote the values too, so the root is trusted; `joule verify-state`
 * recomputes it from every value on demand (state/verify-state.ts).
 *
 * Reads: a block's reads are loaded before it runs (`load`, from its access list), so
 * execution is synchronous and does no I/O. `get` serves everything else synchronously
 * (RPC, admission): the cache, else LevelDB on this thread.
 */
export class WorldState implements StateReader, StateSource {
  private readonly db: Database;
  private readonly nodes: NodeStore;
  private readonly values: LruCache<Uint8Array | null>;
  private readonly residents: ResidentRecords;
  private readonly pruner: StatePruner | undefined;
  private readonly options: WorldStateOptions;
  private rootRef: Subtree;
  private ver: number;
  readonly strictAccess: boolean;
  /** Flat values read synchronously from LevelDB (cache misses of `get`). */
  syncReads = 0;
  /** Reads by blocks of keys they did not declare (non-strict mode). */
  unprefetchedReads = 0;

  private constructor(db: Database, rootRef: Subtree, version: number, residents: ResidentRecords, oldest: number, options: WorldStateOptions) {
    this.db = db;
    this.options = options;
    this.rootRef = rootRef;
    this.ver = version;
    this.residents = residents;
    this.strictAccess = options.strictAccess === true;
    this.nodes = new NodeStore(db, options.nodeCacheBytes ?? 128 * 1024 * 1024);
    this.values = new LruCache(options.valueCacheBytes ?? 64 * 1024 * 1024, valueSize);
    this.pruner =
      options.archive === true
        ? undefined
        : new StatePruner(db, options.historyBlocks ?? DEFAULT_HISTORY_BLOCKS, oldest, options.onPruneError ?? (() => {}), options.pruneBatchNodes);
  }

  /**
   * Opens the committed state in a time independent of its size: the root record, its
   * node (re-hashed: a damaged top of the tree is refused at once) and the resident kinds.
   * An empty store is the empty state at version -1 (genesis is version 0).
   */
  static async open(db: Database, options: WorldStateOptions = {}): Promise<WorldState> {
    const meta = await db.get(metaDbKey(MetaKey.stateRoot));
    let rootRef: Subtree = null;
    let version = -1;
    if (meta !== undefined) {
      if (meta.length < 8) throw new JouleError(ErrorCode.STORE_CORRUPT, `state root record is ${meta.length} bytes (${db.path})`);
      version = readU64be(meta);
      rootRef = decodeRootRef(meta.subarray(8));
    } else {
      for await (const _ of db.iterate(DbPrefix.stateValue, { limit: 1 })) {
        throw new JouleError(ErrorCode.STORE_CORRUPT, `state store holds values but no state root (${db.path})`);
      }
    }
    const residents = new ResidentRecords(options.residentPrefixes ?? [kindPrefix(StatePrefix.validatorVote), kindPrefix(StatePrefix.governanceVote)]);
    await residents.loadFrom(db);
    const world = new WorldState(db, rootRef, version, residents, await readOldestProvable(db), options);
    if (rootRef !== null) {
      try {
        await world.nodes.load(rootRef);
      } catch (e) {
        if (e instanceof MissingNodeError) throw new JouleError(ErrorCode.STORE_CORRUPT, `the state root node ${toHex(rootRef.hash)} is missing (${db.path})`);
        throw e;
      }
    }
    world.pruner?.wake(version);
    return world;
  }

  get root(): Uint8Array {
    return nodeHash(this.rootRef);
  }

  /** Height of the committed state (-1: nothing committed yet). */
  get version(): number {
    return this.ver;
  }

  /** The oldest height a proof can be asked for. */
  get oldestProvable(): number {
    return this.pruner?.oldest ?? 0;
  }

  /** Cache and store counters (metrics, benchmarks, tests). */
  get stats(): StateStats {
    return {
      oldestProvable: this.oldestProvable,
      nodeReads: this.nodes.reads,
      nodeCacheEntries: this.nodes.cacheEntries,
      valueCacheEntries: this.values.size,
      syncReads: this.syncReads,
      unprefetchedReads: this.unprefetchedReads,
      prunedHeights: this.pruner?.pruned ?? 0,
    };
  }

  isResident(prefix: Uint8Array): boolean {
    return this.residents.covers(prefix);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    if (this.residents.covers(key)) return this.residents.get(key);
    const id = byteId(key);
    const hit = this.values.get(id);
    if (hit !== undefined) return hit ?? undefined;
    this.syncReads++;
    const v = this.db.getSync(dbKey(DbPrefix.stateValue, key));
    this.values.set(id, v ?? null);
    return v;
  }

  /** Resident kinds only: anything else is listed through `load` (it may not fit in memory). */
  iterate(prefix: Uint8Array, from?: Uint8Array): IterableIterator<StateEntry> {
    if (!this.residents.covers(prefix)) throw new Error(`prefix 0x${toHex(prefix)} is not resident: list it through WorldState.load`);
    return this.residents.iterate(prefix, from);
  }

  unprefetched(key: Uint8Array): void {
    this.unprefetchedReads++;
    this.options.onUnprefetchedRead?.(key);
  }

  async readMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    const out: (Uint8Array | undefined)[] = new Array(keys.length);
    const missing: number[] = [];
    keys.forEach((k, i) => {
      if (this.residents.covers(k)) {
        out[i] = this.residents.get(k);
        return;
      }
      const hit = this.values.get(byteId(k));
      if (hit === undefined) missing.push(i);
      else out[i] = hit ?? undefined;
    });
    const read = await this.db.getMany(missing.map((i) => dbKey(DbPrefix.stateValue, keys[i]!)));
    missing.forEach((i, j) => {
      out[i] = read[j];
      this.values.set(byteId(keys[i]!), read[j] ?? null);
    });
    return out;
  }

  async readRange(prefix: Uint8Array, from: Uint8Array | undefined, limit: number): Promise<StateEntry[]> {
    const out: StateEntry[] = [];
    if (limit <= 0) return out;
    const options = { from: from === undefined ? undefined : dbKey(DbPrefix.stateValue, from), limit: Number.isFinite(limit) ? limit : -1 };
    for await (const [k, v] of this.db.iterate(dbKey(DbPrefix.stateValue, prefix), options)) out.push([k.subarray(1), v]);
    return out;
  }

  /** A synchronous view of the committed state with `access` loaded (a block's reads, a page of a listing). */
  async load(access: Access): Promise<LoadedState> {
    const view = new LoadedState(this);
    await view.load(access);
    return view;
  }

  /**
   * The state after `changes` (later changes to the same key win) at height `version`;
   * the current state is untouched. Loads the tree paths the changes touch first.
   */
  async prepare(changes: readonly StateChange[], version: number): Promise<PreparedState> {
    const base = { root: this.root, version: this.ver, ref: this.rootRef };
    if (!Number.isSafeInteger(version) || version <= base.version) {
      throw new JouleError(ErrorCode.STORE_MISMATCH, `cannot prepare state version ${version} on version ${base.version}`);
    }
    const sorted = sortChanges(withPaths(changes));
    const working = new Map<NodeRef, Node>();
    try {
      await this.nodes.loadPaths(base.ref, sorted, working, (c, v) => {
        const old = this.values.get(byteId(c.key));
        return old === undefined || old === null ? undefined : makeLeaf(c.keyHash, old, v);
      });
    } catch (e) {
      if (e instanceof MissingNodeError) throw new JouleError(ErrorCode.STORE_CORRUPT, `${e.message}, needed by the current state (${this.db.path})`);
      throw e;
    }
    const created: Node[] = [];
    const removed: NodeRef[] = [];
    const rootRef = applyChanges(base.ref, sorted, {
      version,
      resolve: this.nodes.resolver(working),
      created: (n) => created.push(n),
      removed: (n) => removed.push(n),
    });
    return new PreparedState(base, version, rootRef, sorted, created, removed);
  }

  /** Adds the new tree nodes, the flat value changes, the stale index and the new root to the caller's batch. */
  write(prepared: PreparedState, batch: DbBatch): void {
    prepared.records = prepared.newNodes.map((node) => this.nodes.put(batch, node));
    for (const c of prepared.changes) {
      const k = dbKey(DbPrefix.stateValue, c.key);
      if (c.value === undefined) batch.del(k);
      else batch.put(k, c.value);
    }
    if (this.pruner !== undefined && prepared.staleNodes.length > 0) batch.put(staleKey(prepared.version), encodeStale(prepared.staleNodes));
    const root = encodeRootRef(prepared.rootRef);
    batch.put(rootKey(prepared.version), root);
    batch.put(metaDbKey(MetaKey.stateRoot), concatBytes(u64be(prepared.version), root));
  }

  /** After the batch holding `write(prepared)` is on disk: makes `prepared` the current state. */
  commit(prepared: PreparedState): void {
    if (prepared.baseVersion !== this.ver || !equalBytes(prepared.baseRoot, this.root)) {
      throw new JouleError(
        ErrorCode.STORE_MISMATCH,
        `cannot commit state ${toHex(prepared.root)}: prepared on root ${toHex(prepared.baseRoot)} (version ${prepared.baseVersion}), current root is ${toHex(this.root)} (version ${this.ver})`,
      );
    }
    for (const c of prepared.changes) {
      if (this.residents.covers(c.key)) this.residents.apply(c);
      else this.values.set(byteId(c.key), c.value ?? null);
    }
    prepared.newNodes.forEach((node, i) => this.nodes.remember(node, prepared.records?.[i]));
    // A bare ref: the prepared root links to the block's new nodes as objects, and they to
    // earlier blocks' still in the tree; holding it would keep every node written since
    // start alive (the heap would grow with the state). The caches hold what is hot.
    this.rootRef = prepared.rootRef === null ? null : refOf(prepared.rootRef);
    this.ver = prepared.version;
    this.pruner?.wake(this.ver);
  }

  /**
   * The value of `key` and its proof (inclusion, or exclusion when the value is undefined)
   * against the root of height `version` (default: the current one). Throws NOT_FOUND for
   * a height not committed yet, STATE_PRUNED for one outside the history window.
   */
  async proof(key: Uint8Array, version = this.ver): Promise<{ root: Uint8Array; value: Uint8Array | undefined; proof: Uint8Array }> {
    if (!Number.isSafeInteger(version) || version < 0 || version > this.ver) {
      throw new JouleError(ErrorCode.NOT_FOUND, `no state at height ${version} (head ${this.ver})`, 'height');
    }
    const pruned = () =>
      new JouleError(
        ErrorCode.STATE_PRUNED,
        `the state at height ${version} was pruned: the oldest provable height is ${this.oldestProvable} (state.historyBlocks; state.archive keeps all)`,
        'height',
      );
    if (version < this.oldestProvable) throw pruned();
    try {
      let rootRef = this.rootRef;
      if (version !== this.ver) {
        const raw = await this.db.get(rootKey(version));
        if (raw === undefined) throw new MissingNodeError({ hash: new Uint8Array(32), version, leaf: false });
        rootRef = decodeRootRef(raw);
      }
      const found = await this.nodes.prove(rootRef, keyPath(key));
      return { root: nodeHash(rootRef), value: found.value, proof: encodeProof(found.proof) };
    } catch (e) {
      if (!(e instanceof MissingNodeError)) throw e;
      if (version < this.oldestProvable) throw pruned();
      throw new JouleError(ErrorCode.STORE_CORRUPT, `${e.message}: the state at height ${version} is incomplete (${this.db.path})`);
    }
  }

  /** Waits for background pruning to catch up (tests, benchmarks). */
  async pruned(): Promise<void> {
    await this.pruner?.idle();
  }

  /** Stops background work; call before closing the database. */
  async close(): Promise<void> {
    await this.pruner?.stop();
  }
}
