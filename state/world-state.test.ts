import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { EMPTY_ROOT, verifyProof } from '../core/proof.ts';
import { Database, DbPrefix, dbKey, MetaKey, metaDbKey } from './db.ts';
import type { StateChange } from './overlay.ts';
import { WorldState } from './world-state.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'joule-state-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});

const k = (s: string) => utf8(s);

async function commitBlock(db: Database, ws: WorldState, changes: StateChange[]): Promise<Uint8Array> {
  const prepared = ws.prepare(changes);
  const batch = db.batch();
  ws.write(prepared, batch);
  await batch.write();
  ws.commit(prepared);
  return prepared.root;
}

async function expectCorrupt(p: Promise<unknown>): Promise<JouleError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(JouleError);
  expect((e as JouleError).code).toBe(ErrorCode.STORE_CORRUPT);
  return e as JouleError;
}

describe('WorldState', () => {
  it('an empty database loads as the empty state', async () => {
    const db = await Database.open(tempDir());
    const ws = await WorldState.load(db);
    expect(ws.root).toEqual(EMPTY_ROOT);
    expect(ws.get(k('x'))).toBeUndefined();
    const { value, proof } = await ws.proof(k('x'));
    expect(value).toBeUndefined();
    expect(verifyProof(ws.root, k('x'), undefined, proof)).toBe(true);
    await db.close();
  });

  it('prepare is pure; only a prepared state on the current root commits', async () => {
    const db = await Database.open(tempDir());
    const ws = await WorldState.load(db);
    await commitBlock(db, ws, [{ key: k('a'), value: k('1') }]);
    const root1 = ws.root;
    const p1 = ws.prepare([{ key: k('b'), value: k('2') }]);
    const p2 = ws.prepare([{ key: k('c'), value: k('3') }]);
    expect(ws.root).toEqual(root1);
    expect(ws.get(k('b'))).toBeUndefined();
    expect(p1.root).not.toEqual(p2.root);
    ws.commit(p2);
    expect(ws.get(k('c'))).toEqual(k('3'));
    expect(() => ws.commit(p1)).toThrowError(JouleError);
    await db.close();
  });

  it('random blocks: proofs of every key verify; tampering fails; reopen gives the same state; history stays provable', async () => {
    const dir = tempDir();
    let db = await Database.open(dir);
    let ws = await WorldState.load(db);
    const keys = Array.from({ length: 40 }, (_, i) => k(`key-${i}`));
    const model = new Map<string, Uint8Array>();
    const history: { root: Uint8Array; snapshot: Map<string, Uint8Array> }[] = [];
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
      history.push({ root, snapshot: new Map(model) });
      for (const key of keys) {
        const { value, proof } = await ws.proof(key);
        expect(value).toEqual(model.get(toHex(key)));
        expect(ws.get(key)).toEqual(model.get(toHex(key)));
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
    await db.close();
    db = await Database.open(dir);
    ws = await WorldState.load(db);
    expect(ws.root).toEqual(finalRoot);
    for (const key of keys) expect(ws.get(key)).toEqual(model.get(toHex(key)));
    // every historical root answers with the value it had then, and the proof verifies
    for (const { root, snapshot } of history) {
      for (const key of keys.slice(0, 10)) {
        const r = await ws.proof(key, root);
        expect(r.value).toEqual(snapshot.get(toHex(key)));
        expect(verifyProof(root, key, r.value, r.proof)).toBe(true);
      }
    }
    await expect(ws.proof(keys[0]!, new Uint8Array(32).fill(7))).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    await db.close();
  });

  /** Commits a small state, damages the database with `tamper`, and returns what reloading it throws. */
  async function loadAfter(tamper: (b: ReturnType<Database['batch']>) => void): Promise<JouleError> {
    const dir = tempDir();
    let db = await Database.open(dir);
    const ws = await WorldState.load(db);
    await commitBlock(db, ws, [
      { key: k('a'), value: k('1') },
      { key: k('b'), value: k('2') },
    ]);
    const batch = db.batch();
    tamper(batch);
    await batch.write();
    await db.close();
    db = await Database.open(dir);
    try {
      return await expectCorrupt(WorldState.load(db));
    } finally {
      await db.close();
    }
  }

  it('a tampered flat value is detected on load', async () => {
    const e = await loadAfter((b) => b.put(dbKey(DbPrefix.stateValue, k('a')), k('9')));
    expect(e.message).toContain('corrupt');
  });

  it('a deleted flat value, an extra one, or a tampered or missing root is detected on load', async () => {
    const tamperings: ((b: ReturnType<Database['batch']>) => void)[] = [
      (b) => b.del(dbKey(DbPrefix.stateValue, k('b'))),
      (b) => b.put(dbKey(DbPrefix.stateValue, k('z')), k('0')),
      (b) => b.put(metaDbKey(MetaKey.stateRoot), new Uint8Array(32).fill(1)),
      (b) => b.put(metaDbKey(MetaKey.stateRoot), new Uint8Array(5)),
      (b) => b.del(metaDbKey(MetaKey.stateRoot)),
    ];
    for (const tamper of tamperings) await loadAfter(tamper);
  });

  it('a damaged tree node is reported, not trusted, when proving at an old root', async () => {
    const dir = tempDir();
    const db = await Database.open(dir);
    const ws = await WorldState.load(db);
    const old = await commitBlock(db, ws, [{ key: k('a'), value: k('1') }]);
    await commitBlock(db, ws, [{ key: k('a'), value: k('2') }]);
    const batch = db.batch();
    batch.put(dbKey(DbPrefix.stateNode, old), new Uint8Array([0, ...new Uint8Array(32), 1]));
    await batch.write();
    await expectCorrupt(ws.proof(k('a'), old));
    await db.close();
  });
});

describe('Database', () => {
  it('iterates a prefix in key order, forwards and backwards, and nothing outside it', async () => {
    const db = await Database.open(tempDir());
    const batch = db.batch();
    for (const [p, id] of [
      [DbPrefix.block, 2],
      [DbPrefix.block, 1],
      [DbPrefix.blockHash, 0],
      [DbPrefix.meta, 3],
    ] as const) {
      batch.put(dbKey(p, new Uint8Array([id])), new Uint8Array([id]));
    }
    expect(batch.length).toBe(4);
    await batch.write();
    await expect(batch.write()).rejects.toBeInstanceOf(JouleError);
    const seen: number[] = [];
    for await (const [key] of db.iterate(DbPrefix.block)) seen.push(key[1]!);
    expect(seen).toEqual([1, 2]);
    const last: number[] = [];
    for await (const [key] of db.iterate(DbPrefix.block, { reverse: true, limit: 1 })) last.push(key[1]!);
    expect(last).toEqual([2]);
    expect(await db.has(dbKey(DbPrefix.meta, new Uint8Array([3])))).toBe(true);
    expect(await db.get(dbKey(DbPrefix.meta, new Uint8Array([4])))).toBeUndefined();
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
