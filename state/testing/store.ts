/** Helpers for state/'s unit tests (not used by the node). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ErrorCode, JouleError } from '../../core/errors.ts';
import { Database } from '../db.ts';
import { byteId, iterationStart, type StateChange, type StateEntry, type StateReader } from '../overlay.ts';
import { WorldState } from '../world-state.ts';

/** Temporary directories that `removeTempDirs` deletes (call it in afterEach). */
const dirs: string[] = [];

export function tempDir(label = 'state'): string {
  const d = mkdtempSync(join(tmpdir(), `joule-${label}-`));
  dirs.push(d);
  return d;
}

export function removeTempDirs(): void {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
}

/** Commits `changes` as the next height the way Chain.commit does (one atomic batch); returns the new root. */
export async function commitBlock(db: Database, ws: WorldState, changes: readonly StateChange[]): Promise<Uint8Array> {
  const prepared = await ws.prepare(changes, ws.version + 1);
  const batch = db.batch();
  ws.write(prepared, batch);
  await batch.write();
  ws.commit(prepared);
  return prepared.root;
}

/** The JouleError `p` rejects with (fails the test if it resolves or throws something else). */
/**
 * Runs `use` on a strict LevelDB state (reads of keys not loaded first throw) holding
 * `entries`, committed as one block: a listing tested on it reads nothing but what it loaded.
 */
export async function withStrictState(
  label: string,
  entries: Iterable<readonly [Uint8Array, Uint8Array]>,
  use: (ws: WorldState) => Promise<void>,
): Promise<void> {
  const db = await Database.open(tempDir(label));
  try {
    const ws = await WorldState.open(db, { strictAccess: true });
    await commitBlock(
      db,
      ws,
      [...entries].map(([key, value]) => ({ key, value })),
    );
    await use(ws);
  } finally {
    await db.close();
  }
}

export async function rejection(p: Promise<unknown>): Promise<JouleError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof JouleError)) throw new Error(`expected a JouleError, got ${String(e)}`);
  return e;
}

export async function expectCode(p: Promise<unknown>, code: keyof typeof ErrorCode): Promise<JouleError> {
  const e = await rejection(p);
  if (e.code !== code) throw new Error(`expected ${code}, got ${e.code}: ${e.message}`);
  return e;
}

/** A plain in-memory StateReader over a Map (sorted on every listing: tests only). */
export class MapState implements StateReader {
  readonly data = new Map<string, Uint8Array>();

  get(key: Uint8Array): Uint8Array | undefined {
    return this.data.get(byteId(key));
  }

  *iterate(prefix: Uint8Array, from?: Uint8Array): IterableIterator<StateEntry> {
    const p = byteId(prefix);
    const start = byteId(iterationStart(prefix, from));
    for (const id of [...this.data.keys()].sort()) {
      if (id >= start && id.startsWith(p)) yield [Uint8Array.from(Buffer.from(id, 'latin1')), this.data.get(id)!];
    }
  }
}
