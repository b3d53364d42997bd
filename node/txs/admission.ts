import { equalBytes } from '../../core/bytes.ts';
import { ErrorCode, isJouleError, JouleError } from '../../core/errors.ts';
import { verifySignatureSet } from '../../core/signature-sets.ts';
import { decodeTx, type Tx } from '../../core/tx.ts';
import { TxType } from '../../core/tx/types.ts';
import { TIERS, type AddMeta, type Mempool } from '../../mempool/index.ts';
import { signatureFailure, txSignatureSets, validateTx, type ChainContext, type TxSignatureSet, type ValidTx } from '../../vm/index.ts';
import { Fifo } from '../../core/fifo.ts';
import { getAccount } from '../../state/accounts.ts';
import type { Chain } from '../chain/chain.ts';
import type { AdmissionMetrics } from './metrics.ts';
import { mempoolPriority, mempoolTier, txDevices } from './tiers.ts';

/** Txs between decode and the mempool (their signatures being verified) at most; beyond, submissions wait. */
export const MAX_PENDING_ADMISSIONS = 16_384;

/**
 * Submissions waiting for one of those places, at most (count and encoded bytes), and how
 * long one waits at most (as long as an RPC client waits for its answer: rpc/http
 * DEFAULT_REQUEST_TIMEOUT_MS); beyond either, RATE_LIMITED. Waiting instead of refusing at
 * once is the node's back-pressure: an RPC client's answer comes later, as it did when
 * verification was synchronous, rather than a refusal that leaves a nonce gap behind which
 * all of the sender's later txs are verified for nothing.
 */
export const ADMISSION_WAITING = { txs: 65_536, bytes: 64 * 1024 * 1024, ms: 30_000 } as const;

/** Waiters let in per event-loop turn (see letIn). */
const WAITERS_PER_TURN = 256;

/**
 * What is re-checked against the new head after each block: at most this many pooled txs,
 * and at most this many of their bytes (a telemetry batch of 1,500 readings reads 1,500
 * devices' state; a transfer two accounts). A full pool is covered over some blocks; what
 * re-validation has not reached yet, the proposer's execution still catches.
 */
export const REVALIDATE_PER_BLOCK = { txs: 1024, bytes: 512 * 1024 } as const;

/**
 * The nonces of one account that this node holds for txs it sends itself: its aggregator's
 * telemetry batches (node/ingress/aggregator.ts), from its check until it leaves the pool.
 * The account is also the devices' operator, which issues their grid commands and registers
 * them from the CLI, so a tx of the account from elsewhere can meet a batch at its nonce.
 */
export interface OwnNonces {
  readonly address: Uint8Array;
  /** Whether `tx` is not one of ours and takes a nonce we hold. */
  takes(tx: Tx): boolean;
  /** Past every nonce we hold (0 when none). */
  readonly after: number;
}

/**
 * The one door into the mempool, for RPC and gossip alike: decode, the cheap rules against
 * the head state (chain, type, fee, nonce window, balance, body), then the signatures
 * through the chain's verification service (off the event loop; mempool priority, telemetry
 * batches the lower telemetry priority: node/verify/service.ts), then
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
  private readonly waiting: WaitingRoom;
  /** Steps of the consensus critical path running now (whileHeld): new submissions wait meanwhile. */
  private held = 0;
  /** A turn of letIn is scheduled. */
  private lettingIn = false;
  /** Per sender, settled when its latest submitted tx is settled. */
  private readonly senderTail = new Map<string, Promise<void>>();
  /** Wall-clock ms, told to the mempool (admission times, for expiry). */
  private readonly clock: () => number;
  /** The nonces this node's own sender holds (ownNonces). */
  private own: OwnNonces | undefined;

  constructor(
    chain: Chain,
    mempool: Mempool,
    metrics: AdmissionMetrics,
    opts: {
      maxPending?: number;
      waiting?: { txs: number; bytes: number; ms: number };
      clock?: () => number;
      revalidatePerBlock?: { txs: number; bytes?: number };
    } = {},
  ) {
    this.chain = chain;
    this.mempool = mempool;
    this.metrics = metrics;
    this.maxPending = opts.maxPending ?? MAX_PENDING_ADMISSIONS;
    this.revalidatePerBlock = opts.revalidatePerBlock ?? REVALIDATE_PER_BLOCK;
    this.clock = opts.clock ?? Date.now;
    this.waiting = new WaitingRoom(opts.waiting ?? ADMISSION_WAITING);
  }

  /**
   * The node's own sender (its aggregator): a tx of the same account from anywhere else that
   * would take a nonce it holds is refused with MEMPOOL_NONCE_TAKEN, so that neither replaces
   * the other in the pool (a batch's fee outbids a grid command's; a high fee would outbid a
   * batch and lose its readings).
   */
  ownNonces(own: OwnNonces): void {
    this.own = own;
  }

  /**
   * The next nonce a new tx of `address` can take here without replacing one: past its
   * pooled txs (in a run from its account nonce) and, for the node's own sender, past the
   * nonces that holds (joule_getAccount's pendingNonce).
   */
  nextNonce(address: Uint8Array): number {
    const pooled = this.mempool.nextNonce(address, getAccount(this.chain.world, address).nonce);
    return this.own !== undefined && equalBytes(address, this.own.address) ? Math.max(pooled, this.own.after) : pooled;
  }

  /** Txs whose signatures are being verified now. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Txs waiting for a place among the pending ones. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  /**
   * Admits one encoded tx; rejects with the typed rejection. While MAX_PENDING_ADMISSIONS
   * txs are being verified, it waits its turn (first come, first served, so each sender's
   * order holds) in a bounded waiting room.
   */
  submit(bytes: Uint8Array, source: string): Promise<Tx> {
    let tx: Tx;
    try {
      tx = decodeTx(bytes, this.chain.nextBlockContext().params.maxTxBytes);
      this.refuseDuplicate(tx);
    } catch (e) {
      return Promise.reject(this.rejected(e, source));
    }
    const admitted = this.hasRoom() && this.waiting.size === 0 ? this.admit(tx) : this.waiting.enter(tx, () => this.admit(tx));
    return admitted.then(
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
    const id = this.refuseDuplicate(tx);
    if (this.inFlight.size >= this.maxPending)
      throw new JouleError(ErrorCode.RATE_LIMITED, `${this.inFlight.size} transactions are being verified; retry later`, 'tx');
    const ctx = this.chain.nextBlockContext();
    // Cheap rules first: stale, unfunded or malformed txs (gossip brings many), or ones the
    // pool would refuse (the sender's pending txs already spend its balance; full), never
    // cost a verification.
    let valid = validateTx(ctx.world, tx, this.entering(ctx), { allowFutureNonce: true, verifySignature: false });
    this.refuseOwnNonce(tx);
    this.mempool.precheck(tx, this.poolMeta(tx, valid, ctx));
    const { verifiedTxs } = this.chain.signatures;
    let sets: TxSignatureSet[] = verifiedTxs.has(tx.hash) ? [] : txSignatureSets(ctx.world, tx, ctx);
    // A tx whose body carries signatures of its own (a telemetry batch's aggregate costs a
    // pairing a reading) is first checked under its sender's key, here: one forged in a funded
    // sender's name costs this node one Ed25519 verification, not its body's checks. The
    // pool then checks only the body's.
    if (sets.length > 1) {
      if (!verifySignatureSet(sets[0]!.set)) throw signatureFailure(sets[0]!);
      sets = sets.slice(1);
    }
    const verification = this.checkSignatures(tx, sets);
    const sender = Buffer.from(tx.from).toString('latin1');
    const previous = this.senderTail.get(sender);
    let settle!: () => void;
    const mine = new Promise<void>((resolve) => (settle = resolve));
    this.senderTail.set(sender, mine);
    this.inFlight.add(id);
    try {
      const { invalid, skipped } = await verification;
      await previous;
      if (invalid.length > 0) throw signatureFailure(sets[invalid[0]!]!);
      // The head may have moved while the signatures were checked (the state changes only with
      // it, and a new head has a new context): the rules again, signatures aside. A skipped
      // verification (skipIf) was skipped for one of these two reasons: the rules catch a
      // spent nonce, and the cache knows a tx block import verified.
      const now = this.chain.nextBlockContext();
      if (now !== ctx) valid = validateTx(now.world, tx, this.entering(now), { allowFutureNonce: true, verifySignature: false });
      if (skipped && !verifiedTxs.has(tx.hash)) throw new JouleError(ErrorCode.TX_NONCE_TOO_LOW, 'a block has used this nonce', 'tx.nonce');
      this.refuseOwnNonce(tx); // the node's sender may have taken the nonce while this one was checked
      this.mempool.add(tx, this.poolMeta(tx, valid, now)); // its check put it in the cache (checkSignatures)
      this.updateGauges();
    } finally {
      this.inFlight.delete(id);
      settle();
      if (this.senderTail.get(sender) === mine) this.senderTail.delete(sender);
      this.letIn();
    }
  }

  /**
   * The tx's signatures checked on this node, once: the indexes of the sets that failed, and
   * whether the check was moot by its turn (skipIf: a block has spent the nonce, or block
   * import has verified the tx). A check taken for a worker is tracked in the cache, so that
   * block import waits for it instead of checking again; when block import is checking the
   * tx at this one's turn, this one waits for that check, and makes its own only if that one
   * did not pass the tx. A tx that verified is in the cache before this resolves, before
   * its sender's order is waited for.
   */
  private async checkSignatures(tx: Tx, sets: readonly TxSignatureSet[]): Promise<{ invalid: number[]; skipped: boolean }> {
    if (sets.length === 0) return { invalid: [], skipped: false };
    const { service, verifiedTxs } = this.chain.signatures;
    const opts = { priority: tx.type === TxType.telemetryBatch ? ('telemetry' as const) : ('mempool' as const), batchable: true };
    const signatureSets = sets.map((s) => s.set);
    let skipped = false;
    let blockCheck: Promise<void> | undefined;
    let done!: () => void;
    const checked = new Promise<void>((resolve) => (done = resolve));
    try {
      let invalid = await service.findInvalid(signatureSets, {
        ...opts,
        skipIf: () => {
          if (verifiedTxs.has(tx.hash) || this.nonceSpent(tx)) return (skipped = true);
          blockCheck = verifiedTxs.join(tx.hash, 'admission');
          if (blockCheck === undefined) verifiedTxs.track([tx.hash], checked);
          return blockCheck !== undefined;
        },
      });
      if (blockCheck !== undefined) {
        await blockCheck;
        if (verifiedTxs.has(tx.hash)) return { invalid: [], skipped: false };
        invalid = await service.findInvalid(signatureSets, opts); // that check did not pass it (a set failed, or the service stopped)
      }
      if (invalid.length === 0 && !skipped) verifiedTxs.add(tx);
      return { invalid, skipped };
    } finally {
      done();
    }
  }

  /**
   * Runs `step` (a step of the consensus critical path: a block built, executed or stored)
   * with admission held: submissions meanwhile wait in the waiting room instead of taking
   * the event loop between the step's awaits. Afterwards they are let in a slice per
   * event-loop turn, so that a consensus message arriving then is not queued behind them all.
   */
  async whileHeld<T>(step: () => Promise<T>): Promise<T> {
    this.held++;
    try {
      return await step();
    } finally {
      if (--this.held === 0) this.letIn();
    }
  }

  private hasRoom(): boolean {
    return this.held === 0 && this.inFlight.size < this.maxPending;
  }

  /**
   * Lets waiters in while there is room, WAITERS_PER_TURN per event-loop turn (one chain of
   * turns at a time): thousands let in at once would hold the event loop for a second.
   */
  private letIn(): void {
    if (this.lettingIn) return;
    let slice = 0;
    this.waiting.admitWhile(() => this.hasRoom() && slice++ < WAITERS_PER_TURN);
    if (this.waiting.size > 0 && this.hasRoom()) {
      this.lettingIn = true;
      setImmediate(() => {
        this.lettingIn = false;
        this.letIn();
      });
    }
  }

  /** A block has used the tx's nonce: it can no longer be admitted (its verification is moot). */
  private nonceSpent(tx: Tx): boolean {
    return getAccount(this.chain.nextBlockContext().world, tx.from).nonce > tx.nonce;
  }

  /** Throws MEMPOOL_DUPLICATE when the tx is pooled, being verified or waiting; else returns its id. */
  private refuseDuplicate(tx: Tx): string {
    const id = Buffer.from(tx.hash).toString('latin1');
    if (this.mempool.has(tx.hash) || this.inFlight.has(id) || this.waiting.has(id))
      throw new JouleError(ErrorCode.MEMPOOL_DUPLICATE, 'transaction is already pending', 'tx');
    return id;
  }

  /**
   * The next block's context with this node's clock as its time: rules against block time
   * (a reading's skew, a settled interval) are checked at admission as best the node can,
   * and again, exactly, against the block's own timestamp at inclusion.
   */
  private atNow<C extends ChainContext>(ctx: C): C & { timestamp: number } {
    return { ...ctx, timestamp: this.clock() };
  }

  /** The context a new tx is admitted under: the node's clock, and the rules of entering the pool (ChainContext.entering). */
  private entering<C extends ChainContext>(ctx: C): C & { timestamp: number; entering: true } {
    return { ...this.atNow(ctx), entering: true };
  }

  /**
   * After a commit: re-checks revalidatePerBlock's worth of pooled txs (the pool continues
   * where it stopped last time) against the new head with a block's rules (not entering's:
   * a pooled batch keeps its place when a device changes), signatures aside (they do not
   * change with the state), and drops those that no longer apply: a reading a newer one
   * superseded, an interval closed, a balance another tx spent. Each is counted by code with source `revalidation`.
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
    this.metrics.waiting(this.waiting.size);
    this.metrics.poolSize(this.mempool.size, this.mempool.bytes);
    const { byTier, bytesByTier } = this.mempool.stats();
    for (const tier of TIERS) this.metrics.tierSize(tier, byTier[tier] ?? 0, bytesByTier[tier] ?? 0);
  }

  private refuseOwnNonce(tx: Tx): void {
    if (this.own?.takes(tx) === true)
      throw new JouleError(
        ErrorCode.MEMPOOL_NONCE_TAKEN,
        `nonce ${tx.nonce} is held by this node's own telemetry batch from the same account; the next free nonce is ${this.nextNonce(tx.from)} (joule_getAccount's pendingNonce)`,
        'tx.nonce',
      );
  }

  private rejected(e: unknown, source: string): unknown {
    this.metrics.rejected(isJouleError(e) ? e.code : 'INTERNAL', source);
    return e;
  }
}

interface Waiter {
  readonly id: string;
  readonly bytes: number;
  readonly until: number;
  readonly start: () => Promise<void>;
  readonly resolve: (p: Promise<void>) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Submissions waiting for a place in admission, first in first out, bounded by count,
 * bytes and time. The time bound is kept with one timer for the oldest waiter (all wait
 * the same at most, so the oldest expires first).
 */
class WaitingRoom {
  private readonly waiters = new Fifo<Waiter>();
  private bytes = 0;
  private readonly ids = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** The waiter the timer is set for. */
  private timed: Waiter | undefined;
  private readonly limits: { txs: number; bytes: number; ms: number };

  constructor(limits: { txs: number; bytes: number; ms: number }) {
    this.limits = limits;
  }

  get size(): number {
    return this.waiters.length;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Waits for a place, then runs `start` (its outcome is the returned promise's). */
  enter(tx: Tx, start: () => Promise<void>): Promise<void> {
    if (this.size >= this.limits.txs || this.bytes + tx.bytes.length > this.limits.bytes) {
      return Promise.reject(new JouleError(ErrorCode.RATE_LIMITED, `${this.size} transactions are waiting to be verified; retry later`, 'tx'));
    }
    // Resolved with start()'s promise, whose outcome it then takes.
    return new Promise<void>((resolve, reject) => {
      const id = Buffer.from(tx.hash).toString('latin1');
      this.waiters.push({ id, bytes: tx.bytes.length, until: performance.now() + this.limits.ms, start, resolve, reject });
      this.ids.add(id);
      this.bytes += tx.bytes.length;
      this.arm();
    });
  }

  /** Lets waiters in, oldest first, while `room` says there is a place. */
  admitWhile(room: () => boolean): void {
    while (this.size > 0 && room()) {
      const w = this.shift();
      w.resolve(w.start());
    }
    this.arm();
  }

  private shift(): Waiter {
    const w = this.waiters.shift()!;
    this.ids.delete(w.id);
    this.bytes -= w.bytes;
    return w;
  }

  /** Refuses the waiters whose time is up and sets the timer for the oldest one left. */
  private arm(): void {
    const now = performance.now();
    while (this.size > 0 && this.waiters.peek()!.until <= now) {
      this.shift().reject(new JouleError(ErrorCode.RATE_LIMITED, `waited ${this.limits.ms} ms for verification; retry later`, 'tx'));
    }
    const oldest = this.waiters.peek();
    if (oldest === this.timed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timed = oldest;
    if (oldest === undefined) return;
    this.timer = setTimeout(
      () => {
        this.timed = undefined;
        this.timer = undefined;
        this.arm();
      },
      Math.max(1, Math.ceil(oldest.until - now)),
    );
    this.timer.unref();
  }
}
