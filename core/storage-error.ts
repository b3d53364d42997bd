import { ErrorCode, isJouleError, JouleError } from './errors.ts';

/** What the node was doing when its disk failed: the `op` label of joule_storage_errors_total. */
export type StorageOp = 'db-read' | 'db-write' | 'wal-append' | 'wal-prune';

/** OS errors that say "this machine's disk", never "that peer's data". */
const LOCAL_CODES = ['ENOSPC', 'EROFS', 'EACCES', 'EPERM', 'EIO', 'EDQUOT', 'EBADF'] as const;

/** LevelDB reports OS errors as text ("IO error: <file>: No space left on device"): strerror back to its code. */
const STRERROR: readonly (readonly [RegExp, string])[] = [
  [/no space left on device/i, 'ENOSPC'],
  [/read-only file system/i, 'EROFS'],
  [/permission denied/i, 'EACCES'],
  [/operation not permitted/i, 'EPERM'],
  [/input\/output error/i, 'EIO'],
  [/disk quota exceeded/i, 'EDQUOT'],
];

/** `e` and its `cause`s (LevelDB wraps the native error once or twice). */
function chain(e: unknown): { code?: unknown; message?: unknown }[] {
  const out: { code?: unknown; message?: unknown }[] = [];
  for (let c = e; typeof c === 'object' && c !== null && out.length < 8; c = (c as { cause?: unknown }).cause)
    out.push(c as { code?: unknown; message?: unknown });
  return out;
}

/**
 * The OS error behind a failed disk operation (`ENOSPC`, `EROFS`, ...), `EIO` for LevelDB's
 * own "IO error" without a recognisable OS text, or undefined: not a local I/O failure.
 */
export function localIoCode(e: unknown): string | undefined {
  if (isJouleError(e)) return undefined;
  let levelIo = false;
  for (const c of chain(e)) {
    if (typeof c.code === 'string' && (LOCAL_CODES as readonly string[]).includes(c.code)) return c.code;
    if (c.code === 'LEVEL_IO_ERROR') levelIo = true;
    const message = typeof c.message === 'string' ? c.message : '';
    for (const [re, code] of STRERROR) if (re.test(message)) return code;
    if (/^IO error:/.test(message)) levelIo = true;
  }
  return levelIo ? 'EIO' : undefined;
}

/**
 * `e` as STORAGE_FAILED naming the path, the operation and the OS error when it is a local
 * I/O failure (the caller rethrows it: fatal, never a peer's fault), else undefined.
 */
export function storageFailure(e: unknown, path: string, op: StorageOp): StorageFailure | undefined {
  if (e instanceof StorageFailure) return e;
  const code = localIoCode(e);
  if (code === undefined) return undefined;
  return new StorageFailure(path, op, code, (e as Error).message ?? String(e));
}

export class StorageFailure extends JouleError {
  readonly path: string;
  readonly op: StorageOp;
  readonly osCode: string;

  constructor(path: string, op: StorageOp, osCode: string, detail: string) {
    super(ErrorCode.STORAGE_FAILED, `${op} failed at ${path}: ${osCode} (${detail}). This node's disk, not a peer: free space or fix the mount, then restart`);
    this.path = path;
    this.op = op;
    this.osCode = osCode;
  }
}

/** Runs `f`; a local I/O failure comes out as StorageFailure, anything else unchanged. */
export function guardStorage<T>(path: string, op: StorageOp, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw storageFailure(e, path, op) ?? e;
  }
}

export async function guardStorageAsync<T>(path: string, op: StorageOp, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw storageFailure(e, path, op) ?? e;
  }
}
