import { describe, expect, it } from 'vitest';
import { ErrorCode, isFatal, JouleError } from './errors.ts';
import { localIoCode, storageFailure } from './storage-error.ts';

const osError = (code: string, message: string) => Object.assign(new Error(`${code}: ${message}, write`), { code, errno: -28, syscall: 'write' });
const levelWrapped = (text: string) =>
  Object.assign(new Error('Batch write failed', { cause: Object.assign(new Error(`IO error: /data/000005.log: ${text}`), { code: 'LEVEL_IO_ERROR' }) }), {
    code: 'LEVEL_IO_ERROR',
  });

describe('local I/O errors are classified as STORAGE_FAILED', () => {
  it.each([
    ['ENOSPC', osError('ENOSPC', 'no space left on device')],
    ['EROFS', osError('EROFS', 'read-only file system')],
    ['EACCES', osError('EACCES', 'permission denied')],
    ['EIO', osError('EIO', 'i/o error')],
    ['EDQUOT', osError('EDQUOT', 'disk quota exceeded')],
    ['ENOSPC', levelWrapped('No space left on device')],
    ['EROFS', levelWrapped('Read-only file system')],
    ['EACCES', levelWrapped('Permission denied')],
    ['EIO', levelWrapped('Input/output error')],
    ['EIO', levelWrapped('something LevelDB did not explain')],
  ])('%s from %o', (code, e) => {
    expect(localIoCode(e)).toBe(code);
    const f = storageFailure(e, '/home/joule/data', 'db-write');
    expect(f?.code).toBe(ErrorCode.STORAGE_FAILED);
    expect(f?.message).toContain('/home/joule/data');
    expect(f?.message).toContain(code);
    expect(f?.osCode).toBe(code);
    expect(isFatal(f)).toBe(true);
  });

  it('leaves verdicts and programming errors alone', () => {
    expect(storageFailure(new JouleError(ErrorCode.BLOCK_INVALID, 'bad root', 'block.header.stateRoot'), '/d', 'db-write')).toBeUndefined();
    expect(storageFailure(new TypeError('x is undefined'), '/d', 'db-write')).toBeUndefined();
    expect(storageFailure(Object.assign(new Error('Database is not open'), { code: 'LEVEL_DATABASE_NOT_OPEN' }), '/d', 'db-read')).toBeUndefined();
  });
});
