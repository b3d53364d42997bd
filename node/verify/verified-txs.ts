import { toHex } from '../../core/bytes.ts';
import type { Tx } from '../../core/tx.ts';

/** Who waits for a check of a tx already under way: admission, or block import. */
export type CheckWaiter = 'admission' | 'block';

/** The cache's metric (part of node/verify/metrics.ts VerifyMetrics). */
export interface JoinedChecks {
  /** `waiter` found the tx's check under way on this node (the other one's) and waited for it instead of checking again (`join`). */
  joined(waiter: CheckWaiter): void;
}

/**
 * The txs whose every signature THIS node verified itself (at admission, or while
 * verifying a block), by hash: one cache shared by admission and block import, so a tx
 * admitted and then included in a block is verified once (vm/executor.ts `verified`).
 * Equal hashes are equal bytes, and a signature's validity depends on the bytes alone, so
 * an entry never goes stale; committed txs are removed (their nonce is spent) and the
 * oldest entry leaves first when full. Keeps the decoded Tx, so block import reuses it.
 *
 * It also knows which txs this node is checking right now (`track`): admission's check
 * already in a worker when a block carrying the tx arrives, or block import's check when
 * admission's turn comes. The second caller waits for that check (`join`) instead of
 * making it again: behind a saturated pool, the txs in a worker are the oldest, the very
 * ones the next block carries, and checking them twice deepens the backlog that made them late.
 */
export class VerifiedTxs {
  private readonly byHash = new Map<string, Tx>();
  private readonly underway = new Map<string, Promise<void>>();
  private readonly capacity: number;
  private readonly metrics: JoinedChecks;

  constructor(capacity: number, metrics: JoinedChecks = { joined() {} }) {
    this.capacity = Math.max(1, capacity);
    this.metrics = metrics;
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

  /**
   * Records a check of these txs' signatures under way until `check` settles; whoever made
   * it has put each tx that verified in the cache by then. Entries leave as it settles.
   */
  track(hashes: readonly Uint8Array[], check: Promise<unknown>): void {
    const ids = hashes.map(toHex);
    const settled = check.then(
      () => undefined,
      () => undefined,
    );
    for (const id of ids) this.underway.set(id, settled);
    void settled.then(() => {
      for (const id of ids) if (this.underway.get(id) === settled) this.underway.delete(id);
    });
  }

  /** The check of the tx under way on this node, if any, for `waiter` to wait for (counted): once it settles, `has` gives its verdict. */
  join(hash: Uint8Array, waiter: CheckWaiter): Promise<void> | undefined {
    const check = this.underway.get(toHex(hash));
    if (check !== undefined) this.metrics.joined(waiter);
    return check;
  }

  /** Forgets committed txs. */
  deleteAll(txs: readonly Tx[]): void {
    for (const tx of txs) this.byHash.delete(toHex(tx.hash));
  }
}
