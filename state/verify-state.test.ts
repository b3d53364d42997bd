import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { utf8 } from '../core/bytes.ts';
import { keyPath, leafHash, valueHash } from '../core/proof.ts';
import { LeafSet } from './bulk-tree.ts';
import { Database, DbPrefix, dbKey } from './db.ts';
import { commitBlock, expectCode, removeTempDirs, tempDir } from './testing/store.ts';
import { buildTree, makeLeaf, nodeHash } from './tree.ts';
import { verifyState, type VerifyProgress } from './verify-state.ts';
import { WorldState } from './world-state.ts';

afterEach(removeTempDirs);

describe('bulk tree (state/bulk-tree.ts)', () => {
  it('builds the same root as the node tree for any set of entries', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.uint8Array({ maxLength: 5 }), { maxLength: 200, selector: (k) => Buffer.from(k).toString('hex') }), (keys) => {
        const leaves = new LeafSet();
        for (const key of keys) {
          const kh = keyPath(key);
          leaves.add(kh, leafHash(kh, valueHash(key)));
        }
        const expected = nodeHash(buildTree(keys.map((key) => makeLeaf(keyPath(key), key))));
        expect(Buffer.from(leaves.root()).toString('hex')).toBe(Buffer.from(expected).toString('hex'));
      }),
      { numRuns: 200 },
    );
  });
});

describe('verifyState', () => {
  /** A state of 3,000 keys written over several blocks with updates and deletions. */
  async function buildStore(): Promise<{ dir: string; root: Uint8Array }> {
    const dir = tempDir();
    const db = await Database.open(dir);
    const ws = await WorldState.open(db);
    const key = (i: number) => utf8(`key-${i}`);
    await commitBlock(db, ws, Array.from({ length: 3000 }, (_, i) => ({ key: key(i), value: utf8(`v${i}`) })));
    await commitBlock(db, ws, Array.from({ length: 500 }, (_, i) => ({ key: key(i * 3), value: i % 2 === 0 ? undefined : utf8(`w${i}`) })));
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
