import { afterEach, describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../core/bytes.ts';
import { verifyProof } from '../core/proof.ts';
import { Database, DbPrefix } from './db.ts';
import { readOldestProvable } from './pruner.ts';
import { commitBlock, expectCode, removeTempDirs, tempDir } from './testing/store.ts';
import { verifyState } from './verify-state.ts';
import { WorldState, type WorldStateOptions } from './world-state.ts';

afterEach(removeTempDirs);

const KEYS = Array.from({ length: 60 }, (_, i) => utf8(`key-${i}`));
const BLOCKS = 24;
const WINDOW = 5;

/** Block b rewrites a third of the keys and deletes a few: plenty of stale nodes per height. */
function blockChanges(b: number): { key: Uint8Array; value: Uint8Array | undefined }[] {
  return KEYS.filter((_, i) => i % 3 === b % 3).map((key, i) => ({ key, value: i % 7 === b % 7 ? undefined : utf8(`${b}/${i}`) }));
}

/** Commits BLOCKS blocks (height 0 seeds every key); returns each height's values. */
async function run(db: Database, ws: WorldState): Promise<Map<string, Uint8Array>[]> {
  const snapshots: Map<string, Uint8Array>[] = [];
  const model = new Map<string, Uint8Array>();
  for (let b = 0; b < BLOCKS; b++) {
    const changes = b === 0 ? KEYS.map((key) => ({ key, value: utf8('seed') })) : blockChanges(b);
    for (const c of changes) {
      if (c.value === undefined) model.delete(toHex(c.key));
      else model.set(toHex(c.key), c.value);
    }
    await commitBlock(db, ws, changes);
    snapshots.push(new Map(model));
  }
  return snapshots;
}

async function count(db: Database, prefix: DbPrefix): Promise<number> {
  let n = 0;
  for await (const _ of db.iterate(prefix)) n++;
  return n;
}

/** Every key's proof at `height` verifies against that height's root, with that height's value. */
async function expectProvable(ws: WorldState, height: number, snapshot: Map<string, Uint8Array>): Promise<void> {
  for (const key of KEYS) {
    const { root, value, proof } = await ws.proof(key, height);
    expect(value, `height ${height}`).toEqual(snapshot.get(toHex(key)));
    expect(verifyProof(root, key, value, proof)).toBe(true);
  }
}

describe('state pruning', () => {
  it('keeps the history window provable, answers STATE_PRUNED beyond it, and deletes the stale nodes', async () => {
    const archiveDb = await Database.open(tempDir());
    const archive = await WorldState.open(archiveDb, { archive: true });
    await run(archiveDb, archive);
    const archiveNodes = await count(archiveDb, DbPrefix.stateNode);
    expect(await count(archiveDb, DbPrefix.stateStale)).toBe(0);
    for (const h of [0, 7, BLOCKS - 1]) await ws_proves(archive, h);
    await archive.close();
    await archiveDb.close();

    const dir = tempDir();
    let db = await Database.open(dir);
    let ws = await WorldState.open(db, { historyBlocks: WINDOW });
    const snapshots = await run(db, ws);
    await ws.pruned();
    const head = BLOCKS - 1;
    expect(ws.oldestProvable).toBe(head - WINDOW);
    for (let h = head - WINDOW; h <= head; h++) await expectProvable(ws, h, snapshots[h]!);
    const e = await expectCode(ws.proof(KEYS[0]!, head - WINDOW - 1), 'STATE_PRUNED');
    expect(e.message).toContain(`the oldest provable height is ${head - WINDOW}`);
    await expectCode(ws.proof(KEYS[0]!, 0), 'STATE_PRUNED');
    // stale nodes are gone: far fewer nodes than the archive keeps, and only the window's stale entries remain
    const nodes = await count(db, DbPrefix.stateNode);
    expect(nodes).toBeLessThan(archiveNodes / 2);
    for await (const [k] of db.iterate(DbPrefix.stateStale)) expect(Number(Buffer.from(k).readBigUInt64BE(1))).toBeGreaterThan(head - WINDOW);
    expect(await count(db, DbPrefix.stateStale)).toBe(WINDOW);
    expect(await count(db, DbPrefix.stateRoot)).toBe(WINDOW + 1);
    await ws.close();
    await db.close();

    // the marker survives a restart, and the current state is intact
    db = await Database.open(dir);
    expect(await readOldestProvable(db)).toBe(head - WINDOW);
    ws = await WorldState.open(db, { historyBlocks: WINDOW });
    await expectCode(ws.proof(KEYS[0]!, head - WINDOW - 1), 'STATE_PRUNED');
    await expectProvable(ws, head - WINDOW, snapshots[head - WINDOW]!);
    expect((await verifyState(db)).root).toEqual(ws.root);
    await ws.close();
    await db.close();

    async function ws_proves(w: WorldState, h: number): Promise<void> {
      const { root, value, proof } = await w.proof(KEYS[1]!, h);
      expect(verifyProof(root, KEYS[1]!, value, proof)).toBe(true);
    }
  });

  it('a crash between any two pruning batches leaves a consistent store, and pruning resumes', async () => {
    // Small batches, so one height takes several; crash after each possible number of batches.
    const options: WorldStateOptions = { historyBlocks: WINDOW, pruneBatchNodes: 25 };
    let totalBatches = Infinity;
    for (let crashAfter = 0; crashAfter < totalBatches; crashAfter += crashAfter < 6 ? 1 : 11) {
      const dir = tempDir();
      let db = await Database.open(dir);
      const written = injectCrash(db, crashAfter);
      const failures: unknown[] = [];
      let ws = await WorldState.open(db, { ...options, onPruneError: (e) => failures.push(e) });
      const snapshots = await run(db, ws);
      await ws.pruned();
      if (failures.length === 0) totalBatches = written();
      else expect(String(failures[0])).toContain('injected crash');
      await ws.close();
      await db.close();

      // After the crash, before pruning resumes (archive: no pruner): every height at or above
      // the marker is whole, every height below it answers STATE_PRUNED.
      db = await Database.open(dir);
      const marker = await readOldestProvable(db);
      ws = await WorldState.open(db, { archive: true });
      for (let h = marker; h < BLOCKS; h++) await expectProvable(ws, h, snapshots[h]!);
      expect((await verifyState(db)).root).toEqual(ws.root);
      await ws.close();
      await db.close();
      db = await Database.open(dir);
      ws = await WorldState.open(db, options);
      if (marker > 0) await expectCode(ws.proof(KEYS[0]!, marker - 1), 'STATE_PRUNED');
      await ws.pruned();
      expect(ws.oldestProvable).toBe(BLOCKS - 1 - WINDOW);
      for (let h = BLOCKS - 1 - WINDOW; h < BLOCKS; h++) await expectProvable(ws, h, snapshots[h]!);
      await ws.close();
      await db.close();
    }
    expect(totalBatches).toBeGreaterThan(20);
  });
});

/**
 * Makes the pruning batch (written without fsync) number `after + 1` fail, as if the
 * process died there: it and every later pruning batch never reach the store. Returns the
 * number of pruning batches written.
 */
function injectCrash(db: Database, after: number): () => number {
  let written = 0;
  let crashed = false;
  const batch = db.batch.bind(db);
  db.batch = () => {
    const b = batch();
    const write = b.write.bind(b);
    b.write = async (opts = {}) => {
      if (opts.sync !== false) return write(opts);
      if (crashed || written >= after) {
        crashed = true;
        throw new Error('injected crash');
      }
      written++;
      return write(opts);
    };
    return b;
  };
  return () => written;
}
