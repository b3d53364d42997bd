import { equalBytes, toHex } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { HASH_LENGTH } from '../core/hash.ts';
import { encodeProof, keyPath } from '../core/proof.ts';
import { DbPrefix, dbKey, MetaKey, metaDbKey, type Database, type DbBatch } from './db.ts';
import { iterationStart, type StateChange, type StateEntry, type StateReader } from './overlay.ts';
import { proveFromStore, putNodes } from './tree-store.ts';
import {
  buildTree,
  makeLeaf,
  nodeHash,
  proveInTree,
  sortChanges,
  updateTreeSorted,
  withPaths,
  type InnerNode,
  type LeafNode,
  type TreeNode,
} from './tree.ts';

function id(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/** A change with its path, as the tree and the flat state both need it. */
type KeyedChange = StateChange & { readonly keyHash: Uint8Array };

/**
 * The state after applying a block's changes to a base state, computed without touching
 * the base. Several may exist at once (competing proposals); at most one is committed.
 */
export class PreparedState {
  readonly root: Uint8Array;
  readonly baseRoot: Uint8Array;
  /** Internal to WorldState: the new tree, the distinct changes, the nodes to persist. */
  readonly tree: TreeNode;
  readonly changes: readonly KeyedChange[];
  readonly newNodes: readonly (LeafNode | InnerNode)[];

  constructor(baseRoot: Uint8Array, tree: TreeNode, changes: readonly KeyedChange[], newNodes: readonly (LeafNode | InnerNode)[]) {
    this.baseRoot = baseRoot;
    this.tree = tree;
    this.root = nodeHash(tree);
    this.changes = changes;
    this.newNodes = newNodes;
  }
}

/**
 * The latest committed state: held in memory (a flat map for the VM's synchronous reads,
 * plus the authenticated tree) and persisted in LevelDB (flat values under
 * DbPrefix.stateValue, tree nodes under DbPrefix.stateNode, the root under meta).
 *
 * Values handed in through `prepare` are kept by reference: callers must not mutate them.
 */
export class WorldState implements StateReader {
  private readonly db: Database;
  private tree: TreeNode;
  private readonly values: Map<string, Uint8Array>;

  private constructor(db: Database, tree: TreeNode, values: Map<string, Uint8Array>) {
    this.db = db;
    this.tree = tree;
    this.values = values;
  }

  /**
   * Loads the flat state and rebuilds the tree from it, then checks the rebuilt root
   * against the root stored in meta. Why rebuild rather than load tree nodes: the flat
   * state must be read into memory anyway for the VM, the tree holds more records than the
   * flat state (inner nodes too), and rebuilding proves at every start that the values the
   * VM will read are exactly the ones the chain committed to (any damaged or missing value
   * changes the root). The cost is one hash pass: ~2-3 hashes per entry, about 0.3 s per
   * 100,000 entries here.
   */
  static async load(db: Database): Promise<WorldState> {
    const values = new Map<string, Uint8Array>();
    const leaves: LeafNode[] = [];
    for await (const [k, v] of db.iterate(DbPrefix.stateValue)) {
      const key = k.subarray(1);
      values.set(id(key), v);
      leaves.push(makeLeaf(keyPath(key), v));
    }
    const tree = buildTree(leaves);
    const stored = await db.get(metaDbKey(MetaKey.stateRoot));
    const root = nodeHash(tree);
    if (stored === undefined) {
      if (leaves.length > 0) {
        throw new JouleError(ErrorCode.STORE_CORRUPT, `state store holds ${leaves.length} values but no state root (${db.path})`);
      }
    } else if (stored.length !== HASH_LENGTH || !equalBytes(stored, root)) {
      throw new JouleError(
        ErrorCode.STORE_CORRUPT,
        `state store is corrupt (${db.path}): the stored values hash to root ${toHex(root)} but the committed state root is ${toHex(stored)}`,
      );
    }
    return new WorldState(db, tree, values);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.values.get(id(key));
  }

  /** The entries under `prefix` in key order, from `from` (every value is in memory here: a scan of the keys). */
  *iterate(prefix: Uint8Array, from?: Uint8Array): IterableIterator<StateEntry> {
    const p = id(prefix);
    const start = id(iterationStart(prefix, from));
    const keys = [...this.values.keys()].filter((k) => k.startsWith(p) && k >= start).sort();
    for (const k of keys) {
      const v = this.values.get(k);
      if (v !== undefined) yield [new Uint8Array(Buffer.from(k, 'latin1')), v];
    }
  }

  get root(): Uint8Array {
    return nodeHash(this.tree);
  }

  /** Number of keys in the state. */
  get size(): number {
    return this.values.size;
  }

  /** Pure: the state after `changes` (later changes to the same key win); the current state is untouched. */
  prepare(changes: readonly StateChange[]): PreparedState {
    const sorted = sortChanges(withPaths(changes));
    const newNodes: (LeafNode | InnerNode)[] = [];
    const tree = updateTreeSorted(this.tree, sorted, (n) => newNodes.push(n));
    return new PreparedState(this.root, tree, sorted, newNodes);
  }

  /** Adds the new tree nodes, the flat value changes and the new state root to the caller's batch. */
  write(prepared: PreparedState, batch: DbBatch): void {
    putNodes(batch, prepared.newNodes);
    for (const c of prepared.changes) {
      const k = dbKey(DbPrefix.stateValue, c.key);
      if (c.value === undefined) batch.del(k);
      else batch.put(k, c.value);
    }
    batch.put(metaDbKey(MetaKey.stateRoot), prepared.root);
  }

  /** After the batch holding `write(prepared)` is on disk: makes `prepared` the current state. */
  commit(prepared: PreparedState): void {
    if (!equalBytes(prepared.baseRoot, this.root)) {
      throw new JouleError(
        ErrorCode.STORE_MISMATCH,
        `cannot commit state ${toHex(prepared.root)}: prepared on root ${toHex(prepared.baseRoot)}, current root is ${toHex(this.root)}`,
      );
    }
    for (const c of prepared.changes) {
      if (c.value === undefined) this.values.delete(id(c.key));
      else this.values.set(id(c.key), c.value);
    }
    this.tree = prepared.tree;
  }

  /**
   * The value of `key` and its proof (inclusion, or exclusion when the value is undefined)
   * against the current root, or against any committed historical `root` (read from the
   * node store). Throws NOT_FOUND for a root that was never committed.
   */
  async proof(key: Uint8Array, root?: Uint8Array): Promise<{ value: Uint8Array | undefined; proof: Uint8Array }> {
    const path = keyPath(key);
    if (root === undefined || equalBytes(root, this.root)) {
      return { value: this.get(key), proof: encodeProof(proveInTree(this.tree, path)) };
    }
    if (root.length !== HASH_LENGTH) throw new JouleError(ErrorCode.INVALID_PARAMS, 'a state root is 32 bytes', 'root');
    const found = await proveFromStore(this.db, root, path);
    return { value: found.value, proof: encodeProof(found.proof) };
  }
}
