import { concatBytes, u64be } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { keyPath, leafHash, valueHash } from '../core/proof.ts';
import { LeafSet, type BulkRef } from './bulk-tree.ts';
import { DbPrefix, dbKey, MetaKey, metaDbKey, type Database, type DbBatch } from './db.ts';
import { encodeNode, encodeRootRef, nodeKey, rootKey } from './tree-store.ts';
import type { NodeRef } from './tree.ts';

const BATCH_RECORDS = 50_000;

export interface BulkProgress {
  readonly phase: 'values' | 'tree';
  readonly done: number;
  readonly total: number;
}

/**
 * Writes a whole state into an empty store as version 0 — flat values, every tree node,
 * the root — in large unsynced batches and one tree build (state/bulk-tree.ts), far faster
 * than committing it block by block. `entry(i)` must return the same entry every time it
 * is called (it is called twice: values, then leaves), with distinct keys. For genesis
 * states of millions of records and benchmarks. Returns the state root.
 */
export async function bulkLoadState(
  db: Database,
  count: number,
  entry: (i: number) => { key: Uint8Array; value: Uint8Array },
  onProgress?: (p: BulkProgress) => void,
): Promise<Uint8Array> {
  if ((await db.get(metaDbKey(MetaKey.stateRoot))) !== undefined) throw new JouleError(ErrorCode.STORE_MISMATCH, `${db.path} already holds a state`);
  let batch: DbBatch = db.batch();
  const flush = async (force = false) => {
    if (!force && batch.length < BATCH_RECORDS) return;
    await batch.write({ sync: false });
    batch = db.batch();
  };
  const leaves = new LeafSet();
  for (let i = 0; i < count; i++) {
    const { key, value } = entry(i);
    const keyHash = keyPath(key);
    leaves.add(keyHash, leafHash(keyHash, valueHash(value)));
    batch.put(dbKey(DbPrefix.stateValue, key), value);
    await flush();
    if (i % 100_000 === 0) onProgress?.({ phase: 'values', done: i, total: count });
  }
  await flush(true);
  let nodes = 0;
  const ref = (r: BulkRef | null): NodeRef | null => (r === null ? null : { hash: r.hash, version: 0, leaf: r.leaf });
  const root = await leaves.root(
    {
      leaf(i, hash) {
        const { value } = entry(i);
        batch.put(
          nodeKey({ hash, version: 0, leaf: true }),
          encodeNode({ kind: 'leaf', leaf: true, hash, version: 0, keyHash: leaves.keyHashOf(i), valueHash: new Uint8Array(0), value }),
        );
        nodes++;
      },
      inner(hash, left, right) {
        batch.put(nodeKey({ hash, version: 0, leaf: false }), encodeNode({ kind: 'inner', leaf: false, hash, version: 0, left: ref(left), right: ref(right) }));
        nodes++;
      },
    },
    async () => {
      await flush();
      onProgress?.({ phase: 'tree', done: nodes, total: 2 * count });
    },
  );
  const rootRef: NodeRef | null = count === 0 ? null : { hash: root, version: 0, leaf: count === 1 };
  batch.put(rootKey(0), encodeRootRef(rootRef));
  batch.put(metaDbKey(MetaKey.stateRoot), concatBytes(u64be(0), encodeRootRef(rootRef)));
  await batch.write({ sync: true });
  return root;
}
