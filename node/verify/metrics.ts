import type { VerifyPriority } from './service.ts';
import type { JoinedChecks } from './verified-txs.ts';

/** What the signature verification pool and the verified-txs cache emit (node/metrics/ implements it with prom-client). */
export interface VerifyMetrics extends JoinedChecks {
  /** A batch went to a worker, with this many signature sets. */
  batch(sets: number): void;
  /** The cost (about one Ed25519 verification per unit) now queued at `priority`. */
  queued(priority: VerifyPriority, cost: number): void;
  /**
   * A job verified on the caller's thread instead: its worker died, its queue overflowed, no
   * worker is left, or it was small and urgent while every worker was busy.
   */
  fallback(reason: 'worker-failed' | 'overflow' | 'no-worker' | 'urgent'): void;
}

export const NO_VERIFY_METRICS: VerifyMetrics = { batch() {}, queued() {}, fallback() {}, joined() {} };
