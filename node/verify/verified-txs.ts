import { toHex } from '../../core/bytes.ts';
import type { Tx } from '../../core/tx.ts';

/**
 * The txs whose every signature THIS node verified itself (at admission, or while
 * verifying a block), by hash: one cache shared by admission and block import, so a tx
 * admitted and then included in a block is verified once (vm/executor.ts `verified`).
 * Equal hashes are equal bytes, and a signature's validity depends on the bytes alone, so
 * an entry never goes stale; committed txs are removed (their nonce is spent) and the
 * oldest entry leaves first when full. Keeps the decoded Tx, so block import reuses it.
 */
export class VerifiedTxs {
  private readonly byHash = new Map<string, Tx>();
  private readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity);
  }

  get size(): number {
    return this.byHash.size;
  }

  add(tx: Tx): void {
    const id = toHex(tx.hash);
    if (this.byHash.has(id)) return;
    if (this.byHash.size >= this.capacity) this.byHash.delete(this.byHash.keys().next().value!);
    this.byHash.set(id, tx);
  }

  get(hash: Uint8Array): Tx | undefined {
    return this.byHash.get(toHex(hash));
  }

  has(hash: Uint8Array): boolean {
    return this.byHash.has(toHex(hash));
  }

  /** Forgets committed txs. */
  deleteAll(txs: readonly Tx[]): void {
    for (const tx of txs) this.byHash.delete(toHex(tx.hash));
  }
}
