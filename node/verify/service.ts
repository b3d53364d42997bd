import type { SignatureSet } from '../../core/signature-sets.ts';
import type { JobVerdict } from './batch.ts';
import type { VerifiedTxs } from './verified-txs.ts';

/**
 * Who is waiting, highest first: consensus messages (a round's progress), block import
 * (a proposal being validated, a block being synced), mempool admission (RPC and gossip
 * txs), then telemetry: the admission of telemetry batches from peers and, in one FIFO with
 * them, the check of this node's own batches as they are built (node/ingress/batch-gate.ts:
 * its devices' readings). Telemetry is the bulk of the work under a fleet's load; ahead of
 * it, a transfer or an order would wait seconds for its admission and miss blocks. The last
 * two are shed when their queue is full; the others never are.
 */
export type VerifyPriority = 'consensus' | 'block' | 'mempool' | 'telemetry';

export const PRIORITIES: readonly VerifyPriority[] = ['consensus', 'block', 'mempool', 'telemetry'];

/** Refused with RATE_LIMITED when their queue is full, rather than verified on the caller's thread. */
export function isSheddable(priority: VerifyPriority): boolean {
  return priority === 'mempool' || priority === 'telemetry';
}

export interface VerifyOptions {
  readonly priority: VerifyPriority;
  /**
   * May wait a moment (a few ms) for other jobs to share a batch with: bulk work (admission,
   * a block's txs). False for a latency-bound job, which is sent as soon as a worker is free.
   */
  readonly batchable?: boolean;
  /**
   * Asked when the job's turn comes: true when the caller no longer needs the verdict (a tx
   * waiting for admission that block import has verified meanwhile, or that a block has
   * made stale). The job is then answered with no invalid index (and no sum) and no check
   * made, and the caller decides by those other means: under load a queue seconds deep would
   * otherwise verify again what a block already proved, or what can no longer be admitted.
   */
  readonly skipIf?: () => boolean;
}

/**
 * Verifies signature sets (core/signature-sets.ts) away from the caller, as Lodestar's
 * `verifySignatureSets(sets, { batchable, priority })`. A verdict is the same whichever
 * implementation, batch or moment gave it: a block's validity never depends on timing, and
 * a failure of the machinery itself (a worker that died) never turns into "invalid".
 */
export interface VerificationService {
  /** True when every set verifies. */
  verify(sets: readonly SignatureSet[], opts: VerifyOptions): Promise<boolean>;
  /**
   * The indexes of the sets that do not verify, ascending (empty: all verify), found by
   * bisection, so that an error can name the bad tx or reading. Costs what `verify` costs
   * when everything verifies.
   */
  findInvalid(sets: readonly SignatureSet[], opts: VerifyOptions): Promise<number[]>;
  /**
   * Single-message BLS sets (kind 'bls') judged as one sum (batch.ts judgeTogether): the
   * sets not named invalid verify together, not necessarily each alone; `sum` is their
   * signatures added up, the aggregate they verify as. About 0.6 of the cost of judging
   * each, for a caller that keeps them together (a telemetry batch's readings), and the
   * caller need not decode and add the signatures again.
   */
  findInvalidTogether(sets: readonly SignatureSet[], opts: VerifyOptions): Promise<JobVerdict>;
  /** Stops the service; jobs still queued are rejected with UNAVAILABLE. Idempotent. */
  close(): Promise<void>;
}

/** What admission and block import share: the service, and the one cache of txs this node verified. */
export interface SignatureVerification {
  readonly service: VerificationService;
  readonly verifiedTxs: VerifiedTxs;
}
