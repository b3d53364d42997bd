import { encodeReceipt, type Receipt } from '../../core/block.ts';
import { merkleRoot } from '../../core/merkle.ts';
import type { Tx } from '../../core/tx.ts';

/** Tx root: Merkle root over tx hashes, so inclusion of a tx can be proven by its hash. */
export function txRootOf(txs: readonly Pick<Tx, 'hash'>[]): Uint8Array {
  return merkleRoot(txs.map((t) => t.hash));
}

export function receiptsRootOf(receipts: readonly Receipt[]): Uint8Array {
  return merkleRoot(receipts.map(encodeReceipt));
}
