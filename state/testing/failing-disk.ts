import type { Database } from '../db.ts';

/** What classic-level hands back when LevelDB's log write hits a full disk: a wrapper with the native error as cause. */
export function levelDiskFull(path: string): Error {
  const native = Object.assign(new Error(`IO error: ${path}/000005.log: No space left on device`), { code: 'LEVEL_IO_ERROR' });
  return Object.assign(new Error('Batch write failed', { cause: native }), { code: 'LEVEL_IO_ERROR' });
}

/**
 * Makes every batch write of `db` fail as a full disk does (tests only): the real LevelDB
 * underneath still serves reads. Returns a function that heals it.
 */
export function failBatchWrites(db: Database, error: () => Error = () => levelDiskFull(db.path)): () => void {
  const level = (db as unknown as { db: { batch: () => unknown } }).db;
  const real = level.batch.bind(level);
  level.batch = () => {
    const batch = real() as { write: (o: unknown) => Promise<void> };
    batch.write = () => Promise.reject(error());
    return batch;
  };
  return () => {
    level.batch = real;
  };
}
