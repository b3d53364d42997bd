import { ErrorCode, isJouleError, JouleError } from '../../core/errors.ts';
import { decodeTx, type Tx } from '../../core/tx.ts';
import { TIERS, type AddMeta, type Mempool } from '../../mempool/index.ts';
import { signatureFailure, txSignatureSets, validateTx, type ChainContext, type TxSignatureSet, type ValidTx } from '../../vm/index.ts';
import type { Chain } from '../chain/chain.ts';
import type { AdmissionMetrics } from './metrics.ts';
import { mempoolPriority, mempoolTier, txDevices } from './tiers.ts';

/** Txs between decode and the mempool (their signatures being verified) at most; beyond, RATE_LIMITED. */
export const MAX_PENDING_ADMISSIONS = 16_384;

/**
 * What is re-checked against the new head after each block: at most this many pooled txs,
 * and at most this many of their bytes (a telemetry batch of 1,500 readings reads 1,500
 * devices' state; a transfer two accounts). A full pool is covered over some blocks; what
 * re-validation has not reached yet, the proposer's execution still catches.
 */
export const REVALIDATE_PER_BLOCK = { txs: 1024, bytes: 512 * 1024 } as const;

/**
 * The one door into the mempool, for RPC and gossip alike: decode, the cheap rules against
 * the head state (chain, type, fee, nonce window, balance, body), then the signatures
 * through the chain's verification service (off the event loop, mempool priority), then
 * the rules again against the head as it is by then, and the pool. Every rejection is
 * counted by code and source.
 *
 * Several txs of one sender may be in flight at once: each waits for its signatures and
 * for the sender's earlier txs to be settled, so they reach the mempool in the order they
 * were submitted (nonce n before n+1), whatever order their verifications finish in.
 */
export class TxAdmission {
  private readonly chain: Chain;
  private readonly mempool: Mempool;
  private readonly metrics: AdmissionMetrics;
  private readonly maxPending: number;
  private readonly revalidatePerBlock: { txs: number; bytes?: number };
  private readonly inFlight = new Set<string>();
  /** Per sender, settled when its latest submitted tx is settled. */
  private readonly senderTail = new Map<string, Promise<void>>();
  /** Wall-clock ms, told to the mempool (admission times, for expiry). */
  private readonly clock: () => number;

  constructor(
    chain: Chain,
    mempool: Mempool,
    metrics: AdmissionMetrics,
    opts: { maxPending?: number; clock?: () => number; revalidatePerBlock?: { txs: number; bytes?: number } } = {},
  ) {
    this.chain = chain;
    this.mempool = mempool;
    this.metrics = metrics;
    this.maxPending = opts.maxPending ?? MAX_PENDING_ADMISSIONS;
    this.revalidatePerBlock = opts.revalidatePerBlock ?? REVALIDATE_PER_BLOCK;
    this.clock = opts.clock ?? Date.now;
  }

  /** Txs whose signatures are being verified now. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Admits one encoded tx; rejects with the typed rejection. */
  submit(bytes: Uint8Array, source: string): Promise<Tx> {
    let tx: Tx;
    try {
      tx = decodeTx(bytes, this.chain.nextBlockContext().params.maxTxBytes);
    } catch (e) {
      return Promise.reject(this.rejected(e, source));
    }
    return this.admit(tx).then(
      () => tx,
      (e: unknown) => Promise.reject(this.rejected(e, source)),
    );
  }

  /**
   * Admits a decoded tx, verifying it completely (every signature it carries, even one this
   * node made): block execution trusts what this node verified by hash and skips its
   * signatures (vm/executor.ts), so nothing enters the mempool unverified. The part before
   * the first await runs at once: a tx's place in its sender's order is taken on the call.
   */
  async admit(tx: Tx): Promise<void> {
    const id = Buffer.from(tx.hash).toString('latin1');
    if (this.mempool.has(tx.hash) || this.inFlight.has(id)) throw new JouleError(ErrorCode.MEMPOOL_DUPLICATE, 'transaction is already pending', 'tx');
    if (this.inFlight.size >= this.maxPending)
      throw new JouleError(ErrorCode.RATE_LIMITED, `${this.inFlight.size} transactions are being verified; retry later`, 'tx');
    const ctx = this.chain.nextBlockContext();
    // Cheap rules first: stale, unfunded or malformed txs (gossip brings many), or ones the
    // pool would refuse (the sender's pending txs already spend its balance; full), never
    // cost a verification.
    let valid = validateTx(ctx.world, tx, this.atNow(ctx), { allowFutureNonce: true, verifySignature: false });
    this.mempool.precheck(tx, this.poolMeta(tx, valid, ctx));
    const { service, verifiedTxs } = this.chain.signatures;
    const sets: TxSignatureSet[] = verifiedTxs.has(tx.hash) ? [] : txSignatureSets(ctx.world, tx, ctx);
    const verification =
      sets.length === 0
        ? Promise.resolve([])
        : service.findInvalid(
            sets.map((s) => s.set),
            { priority: 'mempool', batchable: true },
          );
    const sender = Buffer.from(tx.from).toString('latin1');
    const previous = this.senderTail.get(sender);
    let settle!: () => void;
    const mine = new Promise<void>((resolve) => (settle = resolve));
    this.senderTail.set(sender, mine);
    this.inFlight.add(id);
    try {
      const invalid = await verification;
      await previous;
      if (invalid.length > 0) throw signatureFailure(sets[invalid[0]!]!);
      // The head may have moved while the signatures were checked (the state changes only with
      // it, and a new head has a new context): the rules again, signatures aside.
      const now = this.chain.nextBlockContext();
      if (now !== ctx) valid = validateTx(now.world, tx, this.atNow(now), { allowFutureNonce: true, verifySignature: false });
      this.mempool.add(tx, this.poolMeta(tx, valid, now));
      verifiedTxs.add(tx);
      this.updateGauges();
    } finally {
      this.inFlight.delete(id);
      settle();
      if (this.senderTail.get(sender) === mine) this.senderTail.delete(sender);
    }
  }

  /**
   * The next block's context with this node's clock as its time: rules against block time
   * (a reading's skew, a settled interval) are checked at admission as best the node can,
   * and again, exactly, against the block's own timestamp at inclusion.
   */
  private atNow<C extends ChainContext>(ctx: C): C & { timestamp: number } {
    return { ...ctx, timestamp: this.clock() };
  }

  /**
   * After a commit: re-checks revalidatePerBlock's worth of pooled txs (the pool continues
   * where it stopped last time) against the new head with the rules of admission,
   * signatures aside (they do not change with the state), and drops those that no longer
   * apply: a reading a newer one superseded, a device revoked, an interval closed, a
   * balance another tx spent. Each is counted by code with source `revalidation`.
   * Returns how many were dropped.
   */
  revalidate(): number {
    const ctx = this.chain.nextBlockContext();
    const at = this.atNow(ctx);
    const dropped = this.mempool.revalidate((tx) => {
      try {
        validateTx(ctx.world, tx, at, { allowFutureNonce: true, verifySignature: false });
        return undefined;
      } catch (e) {
        // Only a rule's verdict drops a tx; anything else (a storage failure) is not the tx's fault.
        if (!isJouleError(e)) return undefined;
        this.metrics.rejected(e.code, 'revalidation');
        return e.code;
      }
    }, this.revalidatePerBlock);
    this.updateGauges();
    return dropped.length;
  }

  /** What the pool needs to know of a valid tx: its tier and order, its sender's account at the head, what it costs the sender. */
  private poolMeta(tx: Tx, valid: ValidTx, ctx: ChainContext): AddMeta {
    const { account, handler, body } = valid;
    const tier = mempoolTier(tx.type);
    const devices = txDevices(tx.type, body);
    return {
      priority: mempoolPriority(tx, tier, ctx.params),
      tier,
      ...(devices.length > 0 ? { devices } : {}),
      accountNonce: account.nonce,
      balance: account.balance,
      cost: tx.fee + handler.spend(body),
      now: this.clock(),
    };
  }

  updateGauges(): void {
    this.metrics.poolSize(this.mempool.size, this.mempool.bytes);
    const { byTier, bytesByTier } = this.mempool.stats();
    for (const tier of TIERS) this.metrics.tierSize(tier, byTier[tier] ?? 0, bytesByTier[tier] ?? 0);
  }

  private rejected(e: unknown, source: string): unknown {
    this.metrics.rejected(isJouleError(e) ? e.code : 'INTERNAL', source);
    return e;
  }
}
