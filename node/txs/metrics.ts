import type { Tier } from '../../mempool/index.ts';

/** What tx admission emits (node/metrics/ implements it with prom-client). */
export interface AdmissionMetrics {
  /** A tx refused, by typed code, and where it came in (rpc, gossip). */
  rejected(code: string, source: string): void;
  /** The pool after an admission or a commit: transactions and their encoded bytes. */
  poolSize(txs: number, bytes: number): void;
  /** One tier of the pool at the same moments: its transactions and their encoded bytes. */
  tierSize(tier: Tier, txs: number, bytes: number): void;
  /** Submissions waiting for a place in admission (its waiting room). */
  waiting(count: number): void;
}

export const NO_ADMISSION_METRICS: AdmissionMetrics = { rejected() {}, poolSize() {}, tierSize() {}, waiting() {} };
