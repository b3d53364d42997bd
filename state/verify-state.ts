import { readU64be, toHex } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { leafHash, keyPath, valueHash } from '../core/proof.ts';
import { LeafSet } from './bulk-tree.ts';
import { DbPrefix, MetaKey, metaDbKey, type Database } from './db.ts';
import { decodeRootRef } from './tree-store.ts';
import { nodeHash } from './tree.ts';

export interface VerifyProgress {
  readonly phase: 'reading' | 'hashing';
  /** Values read so far. */
  readonly values: number;
}

export interface StateVerification {
  /** Height of the committed state. */
  readonly version: number;
  readonly root: Uint8Array;
  readonly values: number;
}

/**
 * Recomputes the state root from every flat value (what blocks read) and compares it
 * with the committed root (what block headers name). Opening a node trusts that the two
 * agree, as one atomic batch wrote both; this proves it, on demand (`joule verify-state`).
 * Memory: 64 bytes per value (state/bulk-tree.ts). Throws STORE_CORRUPT on any difference.
 */
export async function verifyState(db: Database, onProgress?: (p: VerifyProgress) => void): Promise<StateVerification> {
  const meta = await db.get(metaDbKey(MetaKey.stateRoot));
  if (meta !== undefined && meta.length < 8) throw new JouleError(ErrorCode.STORE_CORRUPT, 'the state root record is malformed');
  const version = meta === undefined ? -1 : readU64be(meta);
  const committed = meta === undefined ? nodeHash(null) : nodeHash(decodeRootRef(meta.subarray(8)));
  const leaves = new LeafSet();
  for await (const [k, v] of db.iterate(DbPrefix.stateValue)) {
    const keyHash = keyPath(k.subarray(1));
    leaves.add(keyHash, leafHash(keyHash, valueHash(v)));
    if (leaves.count % 100_000 === 0) onProgress?.({ phase: 'reading', values: leaves.count });
  }
  onProgress?.({ phase: 'hashing', values: leaves.count });
  const root = await leaves.root();
  if (toHex(root) !== toHex(committed)) {
    throw new JouleError(
      ErrorCode.STORE_CORRUPT,
      `the ${leaves.count} state values hash to root ${toHex(root)}, but the committed state root (height ${version}) is ${toHex(committed)}: a value was changed, lost or added outside a block`,
    );
  }
  return { version, root, values: leaves.count };
}
