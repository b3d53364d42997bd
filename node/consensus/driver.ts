import { decodeBlock, encodeBlock, type CommitCertificate } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { isFatal, isJouleError } from '../../core/errors.ts';
import type { ChainParams } from '../../core/params.ts';
import type { Evidence } from '../../core/evidence.ts';
import { QbftMachine } from '../../consensus/machine.ts';
import type { ConsensusMessage } from '../../consensus/messages.ts';
import type { ConsensusAction, ConsensusEvent, ValidationVerdict } from '../../consensus/types.ts';
import type { ConsensusCrypto, Signer } from '../../consensus/crypto.ts';
import type { Mempool } from '../../mempool/index.ts';
import { getAccount } from '../../state/accounts.ts';
import { blockSpace, buildBlock, type BuildOutput, type ExecutedBlock } from '../blocks/block-builder.ts';
import { verifyNextBlock } from '../blocks/block-import.ts';
import { timestampAhead } from '../blocks/block-verifier.ts';
import type { Chain } from '../chain/chain.ts';
import type { ConsensusMetrics } from './metrics.ts';
import type { ConsensusRecordLog } from './wal.ts';
import type { Logger } from '../log.ts';
import type { SerialQueue } from '../serial-queue.ts';

/** While the pool is empty the proposer looks again this often, to build as soon as txs arrive. */
const IDLE_POLL_MS = 50;
/** Network messages waiting in the serial queue beyond this are dropped (round changes recover). */
const MAX_QUEUED_MESSAGES = 4096;
/** Executed blocks kept for commit, by digest (a height sees a handful at most). */
const MAX_EXECUTED = 32;
/** While stuck (a round change happened, or round 0 outlived its timeout), re-send own messages this often. */
const RESEND_EVERY_MS = 1000;

export interface DriverDeps {
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly queue: SerialQueue;
  readonly signer: Signer;
  readonly crypto: ConsensusCrypto;
  readonly wal: ConsensusRecordLog;
  readonly logger: Logger;
  readonly metrics: ConsensusMetrics;
  readonly clock: () => number;
  readonly publish: (bytes: Uint8Array) => void;
  /** Sends bytes directly (not gossip, which drops repeats) to `peer`, or to every connected peer. */
  readonly sendDirect: (bytes: Uint8Array, peer: string | undefined) => void;
  /** Consensus certified a block other than the one stored at its height: safety is broken; stop the node. */
  readonly onSafetyViolation: (message: string) => void;
  /** The node's one commit path (durable write, mempool, events, gossip). */
  readonly commit: (executed: ExecutedBlock | BuildOutput, certificate: CommitCertificate) => Promise<void>;
  readonly onEvidence: (evidence: Evidence) => void;
  readonly onSyncNeeded: (height: number) => void;
  /**
   * Runs one step of a height's critical path (building this node's proposal, executing
   * another's, storing a decided block); the node holds tx admission back meanwhile, so
   * that the step's awaits are not each stretched by the txs queued behind them. Default:
   * runs the step.
   */
  readonly criticalPath?: <T>(step: () => Promise<T>) => Promise<T>;
}

/**
 * The imperative shell around consensus/'s pure QBFT machine: feeds it network messages,
 * timer expiries and validation results through the node's serial queue, and carries out
 * its actions in order — the WAL append (fsynced) always before the broadcast after it.
 */
export class ConsensusDriver {
  private readonly deps: DriverDeps;
  private readonly machine: QbftMachine;
  private readonly executed = new Map<string, ExecutedBlock>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  /** Target of the `resend` actions of the step being executed (undefined: every peer). */
  private resendTo: string | undefined;
  private heightSince = 0;
  private resendTimer: NodeJS.Timeout | undefined;

  constructor(deps: DriverDeps) {
    this.deps = deps;
    const { chainId, params } = deps.chain.nextBlockContext();
    this.machine = new QbftMachine({
      chainId,
      signer: deps.signer,
      requestTimeoutMs: params.requestTimeoutMs,
      crypto: deps.crypto,
      maxMessageBytes: params.maxBlockBytes + 64 * 1024,
    });
  }

  /** The chain's parameters (fixed in genesis). */
  private get params(): ChainParams {
    return this.deps.chain.nextBlockContext().params;
  }

  get round(): number {
    return this.machine.currentRound;
  }

  start(): Promise<void> {
    const { chain, wal, clock } = this.deps;
    // Records of heights already stored can never be needed again (this node never signs there).
    wal.prune(chain.height + 1);
    this.heightSince = clock();
    this.resendTimer = setInterval(() => this.resendIfStuck(), RESEND_EVERY_MS);
    const next = chain.nextBlockContext();
    return this.enqueue({
      type: 'start',
      height: next.height,
      validators: next.validatorSet,
      previousProposer: next.parent.height === 0 ? null : next.parent.proposer,
      wal: wal.records,
    });
  }

  /** A consensus message from gossip (already checked by the topic validator); shed when the node is overloaded. */
  onMessage(bytes: Uint8Array, decoded?: ConsensusMessage): void {
    if (!this.deps.queue.offer(() => this.step({ type: 'message', bytes, decoded }), MAX_QUEUED_MESSAGES)) {
      this.deps.metrics.rejected('RATE_LIMITED', 'consensus');
    }
  }

  /**
   * The head moved without this machine committing (block import from sync or gossip):
   * start the next height. Must run inside the serial queue.
   */
  async headAdvanced(): Promise<void> {
    const { chain, wal } = this.deps;
    if (this.machine.height === chain.height + 1) return;
    wal.prune(chain.height + 1);
    await this.enterHeight();
  }

  /** A peer (re)connected: it may have missed everything sent while it was away. */
  onPeerConnected(peer: string): void {
    void this.deps.queue.push(() => this.resend(peer));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.resendTimer !== undefined) clearInterval(this.resendTimer);
  }

  private async enterHeight(): Promise<void> {
    const { chain, clock } = this.deps;
    this.heightSince = clock();
    const next = chain.nextBlockContext();
    await this.step({ type: 'new-height', height: next.height, validators: next.validatorSet, previousProposer: next.parent.proposer });
  }

  /**
   * Stuck = a round change happened, or round 0 outlived its timeout. Then whatever this
   * node signed is repeated (directly to every peer) each RESEND_EVERY_MS, so a partition
   * that heals is noticed within that time whatever the round timers have grown to.
   */
  private resendIfStuck(): void {
    if (this.stopped) return;
    const stuck = this.machine.currentRound > 0 || this.deps.clock() - this.heightSince > this.params.requestTimeoutMs;
    if (stuck) void this.deps.queue.push(() => this.resend(undefined));
  }

  private async resend(peer: string | undefined): Promise<void> {
    this.resendTo = peer;
    try {
      await this.step({ type: 'resend' });
    } finally {
      this.resendTo = undefined;
    }
  }

  private enqueue(event: ConsensusEvent): Promise<void> {
    return this.deps.queue.push(() => this.step(event)).then(() => undefined);
  }

  private after(ms: number, task: () => Promise<void>): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) void this.deps.queue.push(task);
    }, ms);
    this.timers.add(t);
  }

  private async step(event: ConsensusEvent): Promise<void> {
    if (this.stopped) return;
    const actions = this.machine.step(event);
    for (const action of actions) await this.execute(action);
  }

  private async execute(a: ConsensusAction): Promise<void> {
    const { logger, metrics } = this.deps;
    switch (a.type) {
      case 'persist':
        this.deps.wal.persist(a.height, a.bytes);
        return;
      case 'broadcast':
        this.deps.publish(a.bytes);
        return;
      case 'resend':
        this.deps.sendDirect(a.bytes, this.resendTo);
        return;
      case 'schedule-timeout':
        this.after(a.ms, () => this.step({ type: 'timeout', height: a.height, round: a.round }));
        metrics.round(a.round);
        if (a.round > 0) {
          metrics.roundChange();
          logger.info({ height: a.height, round: a.round }, 'round change');
        }
        return;
      case 'validate':
        await this.validate(a.height, a.digest, a.block, a.certified);
        return;
      case 'propose':
        this.schedulePropose(a.height, a.round);
        return;
      case 'commit':
        await this.commit(a.block, a.certificate);
        return;
      case 'evidence':
        metrics.evidence();
        logger.warn({ height: a.evidence.first.height, round: a.evidence.first.round, author: toHex(a.evidence.first.author) }, 'equivocation evidence');
        this.deps.onEvidence(a.evidence);
        return;
      case 'verdict':
        if (a.verdict === 'reject') metrics.rejected('CONSENSUS_INVALID_MESSAGE', 'consensus');
        if (a.verdict !== 'accept') logger.debug({ verdict: a.verdict, reason: a.reason }, 'consensus message not accepted');
        return;
      case 'sync-needed':
        this.deps.onSyncNeeded(a.height);
        return;
      case 'refused':
        logger.warn({ height: a.height, round: a.round, kind: a.kind, reason: a.reason }, 'refused to sign: conflicts with the write-ahead log');
        return;
    }
  }

  /** Round 0 waits for the block period (longer, up to the empty-block period, with no txs); later rounds propose at once. */
  private schedulePropose(height: number, round: number): void {
    const { chain, mempool, clock } = this.deps;
    const next = chain.nextBlockContext();
    const { blockPeriodMs, emptyBlockPeriodMs } = next.params;
    const parentTime = next.parent.timestamp;
    const now = clock();
    let wait = 0;
    if (round === 0) {
      const due = parentTime + blockPeriodMs;
      const emptyDue = parentTime + Math.max(blockPeriodMs, emptyBlockPeriodMs);
      if (now < due) wait = due - now;
      else if (mempool.size === 0 && now < emptyDue) wait = Math.min(IDLE_POLL_MS, emptyDue - now);
    }
    if (wait === 0) {
      this.after(0, () => this.propose(height, round));
      return;
    }
    this.after(wait, async () => {
      if (this.machine.height === height && this.machine.currentRound === round) this.schedulePropose(height, round);
    });
  }

  private async propose(height: number, round: number): Promise<void> {
    const { chain, mempool, signer, clock } = this.deps;
    if (this.machine.height !== height || this.machine.currentRound !== round || chain.height !== height - 1) return;
    const context = chain.nextBlockContext();
    const { params } = context;
    const nonceOf = (from: Uint8Array) => getAccount(context.world, from).nonce;
    const started = performance.now();
    const built = await this.critical(() =>
      buildBlock({
        context,
        proposer: signer.address,
        round,
        timestamp: Math.max(clock(), context.parent.timestamp + 1),
        candidates: mempool.select(blockSpace(params), nonceOf),
        signaturesVerified: true,
      }),
    );
    for (const { tx } of built.dropped) mempool.remove(tx.hash);
    this.deps.metrics.blockStage('build', (performance.now() - started) / 1000);
    this.remember(built);
    await this.step({ type: 'block-proposed', height, round, block: encodeBlock(built.block) });
  }

  private critical<T>(step: () => Promise<T>): Promise<T> {
    return this.deps.criticalPath === undefined ? step() : this.deps.criticalPath(step);
  }

  private remember(executed: ExecutedBlock): void {
    if (this.executed.size >= MAX_EXECUTED) this.executed.delete(this.executed.keys().next().value!);
    this.executed.set(toHex(executed.hash), executed);
  }

  /**
   * Answers a `validate`. A live proposal whose timestamp is ahead of what the local clock
   * allows is held until the clock allows it, for at most one round-0 timeout; beyond that
   * it is 'premature' (never 'invalid': that verdict is final for the height, and a clock
   * that is behind by a few ms must not halt the chain). A certified block (a commit quorum
   * decided it) is judged without the clock.
   */
  private async validate(height: number, digest: Uint8Array, blockBytes: Uint8Array, certified: boolean): Promise<void> {
    const { chain, clock } = this.deps;
    if (height !== chain.height + 1 || this.machine.height !== height) return; // a held block whose height has passed
    if (!certified && !this.executed.has(toHex(digest))) {
      let ahead = 0;
      try {
        ahead = timestampAhead(decodeBlock(blockBytes).header, clock(), this.params);
      } catch {
        // undecodable: verify() below says so
      }
      if (ahead > 0) {
        if (ahead <= this.params.requestTimeoutMs) {
          this.after(ahead, () => this.validate(height, digest, blockBytes, certified));
          return;
        }
        this.deps.logger.info({ height, aheadMs: ahead }, 'proposed block is ahead of the local clock; not judged now');
        await this.step({ type: 'validated', height, digest, verdict: 'premature' });
        return;
      }
    }
    const verdict = await this.executeProposal(blockBytes, digest);
    await this.step({ type: 'validated', height, digest, verdict });
  }

  /**
   * Executes a proposed block on the head state: 'valid' when every header field checks out.
   * Its signatures are verified off the event loop first (the chain's verification service);
   * this runs inside the serial queue, so the head cannot move meanwhile. A fatal error (an
   * end-of-block hook failed) is no verdict on the block: it propagates and the node halts.
   */
  private async executeProposal(blockBytes: Uint8Array, digest: Uint8Array): Promise<ValidationVerdict> {
    const { chain, mempool, logger, metrics } = this.deps;
    if (this.executed.has(toHex(digest))) return 'valid';
    try {
      const started = performance.now();
      this.remember(await this.critical(() => this.verify(blockBytes)));
      metrics.blockStage('verify', (performance.now() - started) / 1000);
      return 'valid';
    } catch (e) {
      if (isFatal(e)) throw e;
      const code = isJouleError(e) ? e.code : 'INTERNAL';
      metrics.rejected(code, 'proposal');
      logger.warn({ code, err: (e as Error).message, head: chain.height, mempool: mempool.size }, 'proposed block is invalid');
      return 'invalid';
    }
  }

  private verify(blockBytes: Uint8Array): Promise<ExecutedBlock> {
    const block = decodeBlock(blockBytes, this.params.maxBlockBytes + 64 * 1024);
    return verifyNextBlock(this.deps.chain, block);
  }

  private async commit(blockBytes: Uint8Array, certificate: CommitCertificate): Promise<void> {
    const { chain, wal, logger } = this.deps;
    if (certificate.height <= chain.height) {
      // Sync stored this height first. The same block is harmless; another block certified
      // at a stored height means two conflicting certificates exist: safety is broken.
      const stored = await chain.blockAt(certificate.height);
      if (stored !== undefined && !equalBytes(stored.hash, certificate.blockHash)) {
        this.deps.onSafetyViolation(
          `consensus certified block ${toHex(certificate.blockHash)} at height ${certificate.height} (round ${certificate.round}), ` +
            `but block ${toHex(stored.hash)} is stored there: two conflicting commit certificates exist`,
        );
        return;
      }
      logger.debug({ height: certificate.height, head: chain.height }, 'commit for a height already stored');
      return;
    }
    if (certificate.height !== chain.height + 1) return;
    // Normally the block was executed when it was proposed or validated; a block committed
    // by the others' seals alone (e.g. after a restart) is executed now.
    const executed = this.executed.get(toHex(certificate.blockHash)) ?? (await this.verify(blockBytes));
    const started = performance.now();
    await this.critical(() => this.deps.commit(executed, certificate));
    this.deps.metrics.blockStage('commit', (performance.now() - started) / 1000);
    this.executed.clear();
    wal.pruneWhenDue(chain.height + 1);
    await this.enterHeight();
  }
}
