import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { utf8 } from '../core/bytes.ts';
import { keyPath, leafHash, valueHash, verifyProof } from '../core/proof.ts';
import { bulkLoadState } from './bulk-load.ts';
import { LeafSet } from './bulk-tree.ts';
import { Database, DbPrefix, dbKey } from './db.ts';
import { commitBlock, expectCode, removeTempDirs, tempDir } from './testing/store.ts';
import { buildTree, makeLeaf, nodeHash } from './tree.ts';
import { verifyState, type VerifyProgress } from './verify-state.ts';
import { WorldState } from './world-state.ts';

afterEach(removeTempDirs);

describe('bulk tree (state/bulk-tree.ts)', () => {
  it('builds the same root as the node tree for any set of entries', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.uint8Array({ maxLength: 5 }), { maxLength: 200, selector: (k) => Buffer.from(k).toString('hex') }), async (keys) => {
        const leaves = new LeafSet();
        for (const key of keys) {
          const kh = keyPath(key);
          leaves.add(kh, leafHash(kh, valueHash(key)));
        }
        const expected = nodeHash(buildTree(keys.map((key) => makeLeaf(keyPath(key), key))));
        expect(Buffer.from(await leaves.root()).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
      }),
      { numRuns: 200 },
    );
  });
});

describe('bulk load (state/bulk-load.ts)', () => {
  it('writes the state a node would have committed: same root, provable, usable, verifiable', async () => {
    const entry = (i: number) => ({ key: utf8(`bulk-${i}`), value: utf8(`value-${i * 7}`) });
    const db = await Database.open(tempDir());
    const root = await bulkLoadState(db, 2500, entry);
    const incremental = await Database.open(tempDir());
    const reference = await WorldState.open(incremental);
    await commitBlock(
      incremental,
      reference,
      Array.from({ length: 2500 }, (_, i) => entry(i)),
    );
    expect(root).toEqual(reference.root);
    const ws = await WorldState.open(db);
    expect(ws.version).toBe(0);
    expect(ws.root).toEqual(root);
    const { value, proof } = await ws.proof(entry(1234).key);
    expect(value).toEqual(entry(1234).value);
    expect(verifyProof(root, entry(1234).key, value, proof)).toBe(true);
    await commitBlock(db, ws, [
      { key: entry(5).key, value: undefined },
      { key: utf8('new'), value: utf8('n') },
    ]);
    expect((await verifyState(db)).root).toEqual(ws.root);
    await Promise.all([ws.close(), reference.close()]);
    await Promise.all([db.close(), incremental.close()]);
  });
});

describe('verifyState', () => {
  /** A state of 3,000 keys written over several blocks with updates and deletions. */
  async function buildStore(): Promise<{ dir: string; root: Uint8Array }> {
    const dir = tempDir();
    const db = await Database.open(dir);
    const ws = await WorldState.open(db);
    const key = (i: number) => utf8(`key-${i}`);
    await commitBlock(
      db,
      ws,
      Array.from({ length: 3000 }, (_, i) => ({ key: key(i), value: utf8(`v${i}`) })),
    );
    await commitBlock(
      db,
      ws,
      Array.from({ length: 500 }, (_, i) => ({ key: key(i * 3), value: i % 2 === 0 ? undefined : utf8(`w${i}`) })),
    );
    await commitBlock(db, ws, [{ key: key(9999), value: utf8('new') }]);
    const root = ws.root;
    await ws.close();
    await db.close();
    return { dir, root };
  }

  it('recomputes the committed root from every stored value, with progress', async () => {
    const { dir, root } = await buildStore();
    const db = await Database.open(dir);
    const seen: VerifyProgress[] = [];
    const r = await verifyState(db, (p) => seen.push(p));
    expect(r.root).toEqual(root);
    expect(r.version).toBe(2);
    expect(r.values).toBe(3000 - 250 + 1);
    expect(seen.at(-1)).toEqual({ phase: 'hashing', values: r.values });
    await db.close();
  });

  it('detects a changed, a lost and an added value', async () => {
    const damages: ((b: ReturnType<Database['batch']>) => void)[] = [
      (b) => b.put(dbKey(DbPrefix.stateValue, utf8('key-1')), utf8('tampered')),
      (b) => b.del(dbKey(DbPrefix.stateValue, utf8('key-2'))),
      (b) => b.put(dbKey(DbPrefix.stateValue, utf8('extra')), utf8('x')),
    ];
    for (const damage of damages) {
      const { dir } = await buildStore();
      const db = await Database.open(dir);
      const batch = db.batch();
      damage(batch);
      await batch.write();
      const e = await expectCode(verifyState(db), 'STORE_CORRUPT');
      expect(e.message).toMatch(/hash to root .* but the committed state root \(height 2\)/);
      await db.close();
    }
  });
});
