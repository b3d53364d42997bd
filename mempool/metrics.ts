/** What the mempool emits (node/metrics/ implements it with prom-client). */
export interface MempoolMetrics {
  /** A tx the pool refused, by typed code (MEMPOOL_FULL, MEMPOOL_INSUFFICIENT_FUNDS, ...). */
  rejected(code: string): void;
  /**
   * Txs pushed out: `gapped` (behind a nonce gap, to make room), `outbid` (an executable tx,
   * to make room for one paying more), `unfunded` (after a block, the sender's balance no
   * longer covers its pending txs together).
   */
  evicted(reason: EvictionReason, count: number): void;
  /** Txs that timed out: `gap` (behind a nonce gap for maxGapAgeMs), `age` (older than maxTxAgeMs, with their dependents). */
  expired(reason: ExpiryReason, count: number): void;
}

export type EvictionReason = 'gapped' | 'outbid' | 'unfunded';
export type ExpiryReason = 'gap' | 'age';

export const NO_MEMPOOL_METRICS: MempoolMetrics = { rejected() {}, evicted() {}, expired() {} };
