import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex, u64be, utf8, utf8Text } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { EMPTY_ROOT, verifyProof } from '../core/proof.ts';
import { Database, DbPrefix, dbKey, MetaKey, metaDbKey } from './db.ts';
import { StateAccessError } from './loaded-state.ts';
import { firstEntries } from './overlay.ts';
import { commitBlock, expectCode, removeTempDirs, tempDir } from './testing/store.ts';
import { nodeKey } from './tree-store.ts';
import { WorldState } from './world-state.ts';

afterEach(removeTempDirs);

const k = (s: string) => utf8(s);

/** A full garbage collection (the flag is set at run time: vitest's workers start without it). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('WorldState', () => {
  it("holds no tree node objects of committed blocks (memory stays the caches', whatever the state's size)", async () => {
    const db = await Database.open(tempDir());
    const ws = await WorldState.open(db);
    // Block 1, committed as Chain.commit does; only weak references to its inner nodes survive this function.
    const commitFirst = async () => {
      const prepared = await ws.prepare(
        Array.from({ length: 64 }, (_, i) => ({ key: k(`key-${i}`), value: k(`v${i}`) })),
        0,
      );
      const batch = db.batch();
      ws.write(prepared, batch);
      await batch.write();
      ws.commit(prepared);
      return prepared.newNodes.filter((n) => n.kind === 'inner').map((n) => new WeakRef(n));
    };
    const inner = await commitFirst();
    expect(inner.length).toBeGreaterThan(50);
    // Block 2 rewrites one path: most of block 1's nodes stay in the tree, as records in the store and the caches.
    await commitBlock(db, ws, [{ key: k('key-0'), value: k('changed') }]);
    await new Promise((r) => setTimeout(r, 0)); // weak references are kept alive until the job that made them ends
    collectGarbage();
    expect(inner.filter((w) => w.deref() !== undefined)).toHaveLength(0);
    // and the state still reads and proves through the store and the caches
    const { value, proof } = await ws.proof(k('key-7'));
    expect(value).toEqual(k('v7'));
    expect(verifyProof(ws.root, k('key-7'), k('v7'), proof)).toBe(true);
    await ws.close();
    await db.close();
  });

  it('an empty database opens as the empty state', async () => {
    const db = await Database.open(tempDir());
    const ws = await WorldState.open(db);
    expect(ws.root).toEqual(EMPTY_ROOT);
    expect(ws.version).toBe(-1);
    expect(ws.get(k('x'))).toBeUndefined();
    await commitBlock(db, ws, []);
    const { value, proof } = await ws.proof(k('x'));
    expect(value).toBeUndefined();
    expect(verifyProof(ws.root, k('x'), undefined, proof)).toBe(true);
    await ws.close();
    await db.close();
  });

  it('prepare is pure; only a prepared state on the current root commits; versions only grow', async () => {
    const db = await Database.open(tempDir());
    const ws = await WorldState.open(db);
    await commitBlock(db, ws, [{ key: k('a'), value: k('1') }]);
    const root1 = ws.root;
    const p1 = await ws.prepare([{ key: k('b'), value: k('2') }], 1);
    const p2 = await ws.prepare([{ key: k('c'), value: k('3') }], 1);
    expect(ws.root).toEqual(root1);
    expect(ws.get(k('b'))).toBeUndefined();
    expect(p1.root).not.toEqual(p2.root);
    ws.commit(p2);
    expect(ws.get(k('c'))).toEqual(k('3'));
    expect(() => ws.commit(p1)).toThrowError(JouleError);
    // a node key (version, hash) must never be written twice: a version at or below the current one is refused
    await expectCode(ws.prepare([{ key: k('d'), value: k('4') }], 1), 'STORE_MISMATCH');
    await ws.close();
    await db.close();
  });

  it('random blocks: proofs of every key verify; tampering fails; reopen gives the same state; history stays provable', async () => {
    const dir = tempDir();
    let db = await Database.open(dir);
    let ws = await WorldState.open(db, { archive: true });
    const keys = Array.from({ length: 40 }, (_, i) => k(`key-${i}`));
    const model = new Map<string, Uint8Array>();
    const history: { version: number; root: Uint8Array; snapshot: Map<string, Uint8Array> }[] = [];
    const blocks = fc.sample(
      fc.array(fc.record({ i: fc.nat(39), value: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined }) }), { maxLength: 25 }),
      { numRuns: 15, seed: 42 },
    );
    for (const block of blocks) {
      const changes = block.map((c) => ({ key: keys[c.i]!, value: c.value }));
      for (const c of changes) {
        if (c.value === undefined) model.delete(toHex(c.key));
        else model.set(toHex(c.key), c.value);
      }
      const root = await commitBlock(db, ws, changes);
      history.push({ version: ws.version, root, snapshot: new Map(model) });
      const view = await ws.load({ keys });
      for (const key of keys) {
        const { value, proof } = await ws.proof(key);
        expect(value).toEqual(model.get(toHex(key)));
        expect(ws.get(key)).toEqual(model.get(toHex(key)));
        expect(view.get(key)).toEqual(model.get(toHex(key)));
        expect(verifyProof(ws.root, key, value, proof)).toBe(true);
      }
    }
    // tampering with any byte of a proof, the value or the root fails
    const key = keys.find((x) => model.has(toHex(x)))!;
    const { value, proof } = await ws.proof(key);
    for (let i = 0; i < proof.length; i++) {
      const t = Uint8Array.from(proof);
      t[i]! ^= 0x01;
      expect(verifyProof(ws.root, key, value, t)).toBe(false);
    }
    expect(verifyProof(ws.root, key, Uint8Array.from([...value!, 1]), proof)).toBe(false);
    expect(verifyProof(ws.root, key, undefined, proof)).toBe(false);
    expect(verifyProof(history[0]!.root, key, value, proof)).toBe(history[0]!.root === ws.root);

    const finalRoot = ws.root;
    await ws.close();
    await db.close();
    db = await Database.open(dir);
    ws = await WorldState.open(db, { archive: true });
    expect(ws.root).toEqual(finalRoot);
    for (const key of keys) expect(ws.get(key)).toEqual(model.get(toHex(key)));
    // every historical height answers with the value it had then, and the proof verifies
    for (const { version, root, snapshot } of history) {
      for (const key of keys.slice(0, 10)) {
        const r = await ws.proof(key, version);
        expect(r.root).toEqual(root);
        expect(r.value).toEqual(snapshot.get(toHex(key)));
        expect(verifyProof(root, key, r.value, r.proof)).toBe(true);
      }
    }
    await expectCode(ws.proof(keys[0]!, ws.version + 1), 'NOT_FOUND');
    await ws.close();
    await db.close();
  });

  it('restarts without reading the state: no value and one tree node (the root) read, however large', async () => {
    const dir = tempDir();
    let db = await Database.open(dir);
    let ws = await WorldState.open(db);
    const keys = Array.from({ length: 6000 }, (_, i) => k(`account-${i}`));
    for (let b = 0; b < 3; b++)
      await commitBlock(
        db,
        ws,
        keys.map((key) => ({ key, value: utf8(`${b}`) })),
      );
    const root = ws.root;
    await ws.close();
    await db.close();

    db = await Database.open(dir);
    ws = await WorldState.open(db);
    expect(ws.root).toEqual(root);
    expect(ws.version).toBe(2);
    expect(db.reads[DbPrefix.stateValue]).toBe(0);
    expect(db.reads[DbPrefix.stateNode]).toBe(1);
    // and the state is there: read, proven, and updated on top
    expect(ws.get(keys[4321]!)).toEqual(utf8('2'));
    const { value, proof } = await ws.proof(keys[17]!);
    expect(verifyProof(root, keys[17]!, value, proof)).toBe(true);
    await commitBlock(db, ws, [{ key: keys[0]!, value: utf8('x') }]);
    expect(ws.version).toBe(3);
    await ws.close();
    await db.close();
  });

  it('a block view serves what was loaded and refuses, in strict mode, what was not', async () => {
    const db = await Database.open(tempDir());
    const ws = await WorldState.open(db, { strictAccess: true });
    await commitBlock(db, ws, [
      { key: k('a'), value: k('1') },
      { key: k('b'), value: k('2') },
    ]);
    const view = await ws.load({ keys: [k('a'), k('zz')] });
    expect(view.get(k('a'))).toEqual(k('1'));
    expect(view.get(k('zz'))).toBeUndefined();
    expect(() => view.get(k('b'))).toThrowError(StateAccessError);
    expect(() => [...view.iterate(k('a'))]).toThrowError(StateAccessError);
    await ws.close();
    await db.close();
  });

  it('a queue loaded first by its head, then by a longer slice, lists from the longer slice', async () => {
    const db = await Database.open(tempDir());
    const ws = await WorldState.open(db, { strictAccess: true });
    await commitBlock(
      db,
      ws,
      ['q1', 'q2', 'q3', 'q4'].map((key, i) => ({ key: k(key), value: k(String(i)) })),
    );
    const view = await ws.load({ ranges: [{ prefix: k('q'), limit: 1 }] });
    expect(firstEntries(view, k('q'), 1).map(([key]) => utf8Text(key))).toEqual(['q1']);
    expect(() => firstEntries(view, k('q'), 2)).toThrowError(StateAccessError);
    // The later stage loads the slice from the same start: listings use it, whichever was loaded first.
    await view.load({ ranges: [{ prefix: k('q'), limit: 3 }] });
    expect(firstEntries(view, k('q'), 3).map(([key]) => utf8Text(key))).toEqual(['q1', 'q2', 'q3']);
    expect(() => firstEntries(view, k('q'), 4)).toThrowError(StateAccessError);
    await ws.close();
    await db.close();
  });

  it('outside strict mode an undeclared read is served from the store and reported', async () => {
    const db = await Database.open(tempDir());
    const reported: string[] = [];
    const ws = await WorldState.open(db, { onUnprefetchedRead: (key) => reported.push(toHex(key)) });
    await commitBlock(db, ws, [{ key: k('b'), value: k('2') }]);
    const view = await ws.load({});
    expect(view.get(k('b'))).toEqual(k('2'));
    expect(reported).toEqual([toHex(k('b'))]);
    expect(ws.stats.unprefetchedReads).toBe(1);
    // listing has no synchronous path: it fails whatever the mode
    expect(() => [...view.iterate(k('b'))]).toThrowError(StateAccessError);
    await ws.close();
    await db.close();
  });

  it('a view is bound to the height it was loaded at', async () => {
    const db = await Database.open(tempDir());
    const ws = await WorldState.open(db);
    await commitBlock(db, ws, [{ key: k('a'), value: k('1') }]);
    const view = await ws.load({ keys: [k('a')] });
    await commitBlock(db, ws, [{ key: k('a'), value: k('2') }]);
    await expectCode(view.load({ keys: [k('b')] }), 'STORE_MISMATCH');
    expect(() => view.get(k('c'))).toThrowError(/moved from height 0 to 1/);
    await ws.close();
    await db.close();
  });

  /** Commits a small state, damages the database with `tamper`, and returns what reopening it throws. */
  async function openAfter(tamper: (b: ReturnType<Database['batch']>, root: Uint8Array) => void): Promise<JouleError> {
    const dir = tempDir();
    let db = await Database.open(dir);
    const ws = await WorldState.open(db);
    await commitBlock(db, ws, [
      { key: k('a'), value: k('1') },
      { key: k('b'), value: k('2') },
    ]);
    await ws.close();
    const batch = db.batch();
    tamper(batch, ws.root);
    await batch.write();
    await db.close();
    db = await Database.open(dir);
    try {
      return await expectCode(WorldState.open(db), 'STORE_CORRUPT');
    } finally {
      await db.close();
    }
  }

  it('a damaged or missing root record, or a missing or damaged root node, is refused on open', async () => {
    await openAfter((b) => b.put(metaDbKey(MetaKey.stateRoot), new Uint8Array(5)));
    await openAfter((b) => b.del(metaDbKey(MetaKey.stateRoot)));
    await openAfter((b, root) => b.del(nodeKey({ hash: root, version: 0, leaf: false })));
    const e = await openAfter((b, root) => b.put(nodeKey({ hash: root, version: 0, leaf: false }), new Uint8Array([1, ...new Uint8Array(82)])));
    expect(e.message).toContain('does not match its hash');
  });

  it('a damaged tree node is reported, not trusted, when proving at an old height', async () => {
    const dir = tempDir();
    let db = await Database.open(dir);
    let ws = await WorldState.open(db, { archive: true });
    const old = await commitBlock(db, ws, [{ key: k('a'), value: k('1') }]);
    await commitBlock(db, ws, [{ key: k('a'), value: k('2') }]);
    await ws.close();
    const batch = db.batch();
    batch.put(nodeKey({ hash: old, version: 0, leaf: true }), new Uint8Array([0, ...new Uint8Array(32), 1]));
    await batch.write();
    await db.close();
    db = await Database.open(dir);
    ws = await WorldState.open(db, { archive: true });
    expect((await expectCode(ws.proof(k('a'), 0), 'STORE_CORRUPT')).message).toContain('does not match its hash');
    await ws.close();
    await db.close();
  });
});

describe('Database', () => {
  it('iterates a prefix in key order, forwards and backwards, from a key, and nothing outside it', async () => {
    const db = await Database.open(tempDir());
    const batch = db.batch();
    for (const [p, id] of [
      [DbPrefix.block, 2],
      [DbPrefix.block, 1],
      [DbPrefix.block, 3],
      [DbPrefix.blockHash, 0],
      [DbPrefix.meta, 3],
    ] as const) {
      batch.put(dbKey(p, new Uint8Array([id])), new Uint8Array([id]));
    }
    expect(batch.length).toBe(5);
    await batch.write();
    await expect(batch.write()).rejects.toBeInstanceOf(JouleError);
    const seen: number[] = [];
    for await (const [key] of db.iterate(DbPrefix.block)) seen.push(key[1]!);
    expect(seen).toEqual([1, 2, 3]);
    const last: number[] = [];
    for await (const [key] of db.iterate(DbPrefix.block, { reverse: true, limit: 1 })) last.push(key[1]!);
    expect(last).toEqual([3]);
    const from: number[] = [];
    for await (const [key] of db.iterate(DbPrefix.block, { from: dbKey(DbPrefix.block, new Uint8Array([2])) })) from.push(key[1]!);
    expect(from).toEqual([2, 3]);
    expect(await db.has(dbKey(DbPrefix.meta, new Uint8Array([3])))).toBe(true);
    expect(await db.get(dbKey(DbPrefix.meta, new Uint8Array([4])))).toBeUndefined();
    expect(db.getSync(dbKey(DbPrefix.meta, new Uint8Array([3])))).toEqual(new Uint8Array([3]));
    expect(await db.getMany([dbKey(DbPrefix.block, new Uint8Array([3])), dbKey(DbPrefix.block, u64be(9))])).toEqual([new Uint8Array([3]), undefined]);
    const all: number[] = [];
    for await (const [key] of db.iterate(new Uint8Array([0xff]))) all.push(key[0]!);
    expect(all).toEqual([]);
    await db.close();
  });

  it('a database already open elsewhere is reported as unavailable', async () => {
    const dir = tempDir();
    const db = await Database.open(dir);
    await expect(Database.open(dir)).rejects.toMatchObject({ code: ErrorCode.UNAVAILABLE });
    await db.close();
  });
});
