import { hash as nodeHash } from 'node:crypto';
import { concatBytes } from './bytes.ts';

export const HASH_LENGTH = 32;

/** SHA-256 through node:crypto's one-shot hash (the fastest path for small inputs). */
export function sha256(data: Uint8Array): Uint8Array {
  const b = nodeHash('sha256', data, 'buffer');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function sha256Concat(...parts: Uint8Array[]): Uint8Array {
  return sha256(concatBytes(...parts));
}

export const ZERO_HASH: Uint8Array = new Uint8Array(HASH_LENGTH);
