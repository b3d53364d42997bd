import type { VerifyPriority } from './service.ts';
import type { CheckWaiter } from './verified-txs.ts';

/** What the signature verification pool emits (node/metrics/ implements it with prom-client). */
export interface VerifyMetrics {
  /** A batch went to a worker, with this many signature sets. */
  batch(sets: number): void;
  /** The cost (about one Ed25519 verification per unit) now queued at `priority`. */
  queued(priority: VerifyPriority, cost: number): void;
  /**
   * A job verified on the caller's thread instead: its worker died, its queue overflowed, no
   * worker is left, or it was small and urgent while every worker was busy.
   */
  fallback(reason: 'worker-failed' | 'overflow' | 'no-worker' | 'urgent'): void;
  /** `waiter` found the tx's check under way on this node (the other one's) and waited for it instead of checking again (VerifiedTxs.join). */
  joined(waiter: CheckWaiter): void;
}

export const NO_VERIFY_METRICS: VerifyMetrics = { batch() {}, queued() {}, fallback() {}, joined() {} };
