import type { Tier } from './tiers.ts';

/** What the mempool emits (node/metrics/ implements it with prom-client); every event carries the tx's tier. */
export interface MempoolMetrics {
  /** A tx the pool refused, by typed code (MEMPOOL_FULL, MEMPOOL_INSUFFICIENT_FUNDS, ...). */
  rejected(code: string, tier: Tier): void;
  /** A tx admitted. */
  admitted(tier: Tier): void;
  /**
   * Txs pushed out: `gapped` (behind a nonce gap, to make room), `outbid` (an executable tx,
   * to make room for one that ranks above it), `unfunded` (after a block, the sender's
   * balance no longer covers its pending txs together), `invalid` (re-validation against
   * a new head found it no longer applies).
   */
  evicted(reason: EvictionReason, tier: Tier, count: number): void;
  /** Txs that timed out: `gap` (behind a nonce gap for maxGapAgeMs), `age` (older than maxTxAgeMs, with their dependents). */
  expired(reason: ExpiryReason, tier: Tier, count: number): void;
  /** A pooled tx a committed block included, and how long it waited (ms, the caller's clock). */
  included(tier: Tier, ageMs: number): void;
}

export type EvictionReason = 'gapped' | 'outbid' | 'unfunded' | 'invalid';
export type ExpiryReason = 'gap' | 'age';

export const NO_MEMPOOL_METRICS: MempoolMetrics = { rejected() {}, admitted() {}, evicted() {}, expired() {}, included() {} };
