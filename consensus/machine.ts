import { commitSealBytes } from '../core/block.ts';
import { compareBytes, equalBytes, toHex } from '../core/bytes.ts';
import { isJouleError } from '../core/errors.ts';
import { sha256 } from '../core/hash.ts';
import type { ValidatorSet } from '../core/validators.ts';
import { certifyCommits } from './certificate.ts';
import { makeEvidence } from '../core/evidence.ts';
import { FutureBuffer } from './future-buffer.ts';
import { buildJustification, checkAttachments, checkPrepared, isProposer, verifySignature, type HeightContext } from './justification.ts';
import { checkMessage, type Outcome } from './message-check.ts';
import { proposerOf } from './proposer.ts';
import { HighestRoundChanges } from './round-changes.ts';
import { OwnMessages } from './own-messages.ts';
import { groupKey, type CommitGroup, type Prepared, type RoundState } from './height-state.ts';
import { Kind, messageSigningBytes, type RoundChange, type Unsigned, type Vote } from '../core/signed-core.ts';
import { decodeMessage, encodeMessage, toCore, type ConsensusMessage, type Justification, type Proposal } from './messages.ts';
import {
  defaultBlockInfo,
  type BlockInfo,
  type ConsensusAction,
  type ConsensusEvent,
  type QbftConfig,
  type ValidationVerdict,
  type WalRecord,
} from './types.ts';
import { defaultCrypto, type ConsensusCrypto } from './crypto.ts';
import { encodeWalRecord, restoreHeight } from './wal-record.ts';

const ACCEPT: Outcome = ['accept', 'ok'];

/**
 * QBFT as a pure state machine (etcd raft style): `step(event)` returns the actions the
 * driver must execute, in order. No I/O, clock or randomness; signing and verification are
 * injected. One instance runs one validator; heights are started by the driver.
 *
 * Rules that the review of issue 6 made explicit (each has a regression test):
 * - COMMITs count per (round, digest) and a certificate is made of one round's seals, which
 *   sign the round (QBFT spec: a commit quorum is of one round; Besu stamps the round into
 *   the sealed hash).
 * - A clock-dependent verdict ('premature') is never cached: the block is validated again
 *   when proposed again, and a commit quorum validates it without the clock.
 * - Each author's highest ROUND-CHANGE counts for the f+1 rule at any distance (bounded: one
 *   per author), and the rule is checked again whenever this node changes round.
 * - What this node signed is re-sent on `resend` (peer reconnect, stuck), since gossip lost
 *   during a partition is never repeated by anyone else.
 */
export class QbftMachine {
  private readonly cfg: QbftConfig;
  private readonly crypto: ConsensusCrypto;
  private readonly blockInfo: (block: Uint8Array) => BlockInfo;
  private readonly me: string;
  private readonly maxRoundDistance: number;
  private readonly maxHeightDistance: number;
  private readonly future: FutureBuffer;

  private ctx: HeightContext | null = null;
  private round = 0;
  private committed = false;
  private rounds = new Map<number, RoundState>();
  private commits = new Map<string, CommitGroup>();
  private blocks = new Map<string, Uint8Array>();
  private validation = new Map<string, 'pending' | 'valid' | 'invalid'>();
  private prepared: Prepared | null = null;
  /** What this node signed at the height (never two different messages per round and kind; restored from the WAL). */
  private own: OwnMessages;
  /** First accepted message by `${round}:${kind}:${author}`; a different second one is equivocation. */
  private seen = new Map<string, { readonly payload: Uint8Array; readonly message: ConsensusMessage }>();
  /** author hex -> highest round of a verified ROUND-CHANGE at this height (the f+1 rule). */
  private highestRoundChange = new HighestRoundChanges();
  private evidenceKeys = new Set<string>();
  private proposalRequested = -1;
  private syncHinted = false;
  private out: ConsensusAction[] = [];

  constructor(config: QbftConfig) {
    this.cfg = config;
    this.crypto = config.crypto ?? defaultCrypto;
    this.blockInfo = config.blockInfo ?? defaultBlockInfo;
    this.me = toHex(config.signer.address);
    this.maxRoundDistance = config.maxRoundDistance ?? 10;
    this.maxHeightDistance = config.maxHeightDistance ?? 10;
    this.future = new FutureBuffer(config.maxFuturePerAuthor ?? 64);
    this.own = new OwnMessages(config.chainId);
  }

  get height(): number {
    return this.ctx?.height ?? 0;
  }
  get currentRound(): number {
    return this.round;
  }
  get isCommitted(): boolean {
    return this.committed;
  }
  get bufferedFutureMessages(): number {
    return this.future.size;
  }

  step(event: ConsensusEvent): ConsensusAction[] {
    this.out = [];
    switch (event.type) {
      case 'start':
        this.beginHeight(event.height, event.validators, event.previousProposer, event.wal);
        break;
      case 'new-height':
        if (this.ctx === null || event.height > this.ctx.height) this.beginHeight(event.height, event.validators, event.previousProposer, []);
        break;
      case 'message': {
        let outcome: Outcome;
        try {
          outcome = this.handle(event.decoded ?? decodeMessage(event.bytes, this.cfg.maxMessageBytes));
        } catch (e) {
          if (!isJouleError(e)) throw e;
          outcome = ['reject', `${e.code}: ${e.message}`];
        }
        this.out.push({ type: 'verdict', verdict: outcome[0], reason: outcome[1] });
        break;
      }
      case 'timeout':
        if (this.ctx !== null && event.height === this.ctx.height && event.round === this.round && !this.committed) {
          this.advanceTo(this.round + 1, true);
        }
        break;
      case 'validated':
        this.onValidated(event.height, event.digest, event.verdict);
        break;
      case 'block-proposed':
        this.onBlockProposed(event.height, event.round, event.block);
        break;
      case 'resend':
        this.resend();
        break;
    }
    return this.out;
  }

  // ---------------- heights and rounds ----------------

  private beginHeight(height: number, validators: ValidatorSet, previousProposer: Uint8Array | null, wal: readonly WalRecord[]): void {
    this.ctx = { chainId: this.cfg.chainId, height, validators, previousProposer, crypto: this.crypto };
    this.round = 0;
    this.committed = false;
    this.rounds = new Map();
    this.commits = new Map();
    this.blocks = new Map();
    this.validation = new Map();
    this.prepared = null;
    this.own = new OwnMessages(this.cfg.chainId);
    this.seen = new Map();
    this.highestRoundChange = new HighestRoundChanges();
    this.evidenceKeys = new Set();
    this.proposalRequested = -1;
    this.syncHinted = false;
    // Restore what this node signed before a crash: it resumes at its highest signed round
    // (never signing again in a lower one), with its prepared certificate if this height's
    // set can be locked on it (consensus/README.md: after an emergency transition).
    const ctx = this.ctx;
    const restored = restoreHeight(wal, height, this.cfg.signer.address, ctx.validators.hash, (p) => checkPrepared(ctx, p, this.blockInfo) === null);
    for (const m of restored.own) this.own.restore(m);
    this.prepared = restored.prepared;
    const { own, startRound } = restored;
    this.enterRound(startRound);
    for (const m of own) {
      // Re-send what may have been lost in the crash: identical bytes, so never a conflict.
      if (m.round === startRound || m.kind === Kind.COMMIT) this.out.push({ type: 'broadcast', message: m, bytes: encodeMessage(m) });
      this.handle(m);
    }
    // What it signed in this round under a replaced set stands (a vote for the old set's
    // block, a round change peers refuse): the round is lost to it, and its timer may be
    // 2^round timeouts long. It moves on at once, with a round change the new set accepts.
    if (restored.startRoundReplaced) this.advanceTo(startRound + 1, true);
    for (const m of this.future.take(height)) this.handle(m);
  }

  private enterRound(round: number): void {
    const ctx = this.ctx!;
    this.round = round;
    for (const r of [...this.rounds.keys()]) if (r < round) this.rounds.delete(r);
    this.out.push({ type: 'schedule-timeout', height: ctx.height, round, ms: this.cfg.requestTimeoutMs * 2 ** round });
    this.maybePropose();
    this.checkPrepared();
  }

  /** Moves to a higher round; with `sendRoundChange` (timeout, f+1 rule) announces it first. */
  private advanceTo(round: number, sendRoundChange: boolean): void {
    if (round <= this.round || this.committed) return;
    this.round = round;
    if (sendRoundChange) {
      const p = this.prepared;
      const rc = this.sign({
        kind: 3,
        height: this.ctx!.height,
        round,
        author: this.cfg.signer.address,
        preparedRound: p?.round ?? null,
        preparedDigest: p?.digest ?? null,
        prepared: p === null ? null : { block: p.block, votes: p.votes },
      });
      if (rc !== null) this.roundState(round).roundChanges.set(this.me, rc as RoundChange);
    }
    this.enterRound(round);
    // Others may already be further ahead than the round just entered.
    this.applyFPlusOne();
  }

  private roundState(round: number): RoundState {
    let rs = this.rounds.get(round);
    if (rs === undefined) this.rounds.set(round, (rs = { proposal: null, prepares: new Map(), roundChanges: new Map() }));
    return rs;
  }

  // ---------------- proposing ----------------

  private maybePropose(): void {
    const ctx = this.ctx!;
    if (this.committed || !isProposer(ctx, this.round, this.cfg.signer.address)) return;
    if (this.own.signedAt(this.round, Kind.PROPOSAL) !== undefined) return;
    if (this.round === 0) return this.requestBlock();
    const rcs = this.rounds.get(this.round)?.roundChanges;
    if (rcs === undefined || rcs.size < ctx.validators.quorum) return;
    const { justification, reproposal } = buildJustification([...rcs.values()]);
    // The highest prepared block must be re-proposed: a quorum may have committed it.
    if (reproposal !== null) this.sendProposal(reproposal, justification);
    else this.requestBlock();
  }

  private requestBlock(): void {
    if (this.proposalRequested === this.round) return;
    this.proposalRequested = this.round;
    this.out.push({ type: 'propose', height: this.ctx!.height, round: this.round });
  }

  private onBlockProposed(height: number, round: number, block: Uint8Array): void {
    const ctx = this.ctx;
    if (ctx === null || height !== ctx.height || round !== this.round || this.committed) return;
    if (!isProposer(ctx, round, this.cfg.signer.address) || this.own.signedAt(round, Kind.PROPOSAL) !== undefined) return;
    let justification: Justification | null = null;
    if (round > 0) {
      const rcs = this.rounds.get(round)?.roundChanges;
      if (rcs === undefined || rcs.size < ctx.validators.quorum) return;
      const built = buildJustification([...rcs.values()]);
      if (built.reproposal !== null) return this.sendProposal(built.reproposal, built.justification);
      justification = built.justification;
    }
    let info: BlockInfo;
    try {
      info = this.blockInfo(block);
    } catch {
      return; // the driver built a malformed block; the round will time out
    }
    // The driver built it from our own state: no need to validate it again.
    const d = toHex(info.digest);
    if (!this.validation.has(d)) this.validation.set(d, 'valid');
    this.sendProposal(block, justification, info.digest);
  }

  private sendProposal(block: Uint8Array, justification: Justification | null, digest = this.blockInfo(block).digest): void {
    const m = this.sign({ kind: 0, height: this.ctx!.height, round: this.round, author: this.cfg.signer.address, digest, block, justification });
    if (m !== null) this.acceptProposal(m as Proposal);
  }

  // ---------------- signing (never twice) ----------------

  /**
   * Signs, persists, broadcasts. Refuses anything conflicting with what this node already
   * signed at the same (height, round, kind), including before a crash (WAL-restored).
   * A node outside the height's validator set signs nothing.
   */
  private sign(unsigned: Unsigned<ConsensusMessage>): ConsensusMessage | null {
    const ctx = this.ctx!;
    if (!ctx.validators.has(this.cfg.signer.address)) return null;
    const payload = messageSigningBytes(ctx.chainId, unsigned);
    const before = this.own.signedAt(unsigned.round, unsigned.kind);
    if (before !== undefined) {
      if (!equalBytes(before, payload)) {
        this.out.push({
          type: 'refused',
          height: ctx.height,
          round: unsigned.round,
          kind: unsigned.kind,
          reason: 'conflicts with a message signed before (WAL)',
        });
      }
      return null;
    }
    const m = { ...unsigned, signature: this.cfg.signer.sign(payload) } as ConsensusMessage;
    const bytes = encodeMessage(m);
    this.own.add(m, payload, bytes);
    this.seen.set(`${unsigned.round}:${unsigned.kind}:${this.me}`, { payload, message: m });
    this.persist({ type: 'signed', message: m });
    this.out.push({ type: 'broadcast', message: m, bytes });
    return m;
  }

  /** Writes `record` to the WAL, stamped with the height's validator set (what a restart under a replaced set tells apart). */
  private persist(record: WalRecord): void {
    const ctx = this.ctx!;
    const stamped: WalRecord = { ...record, validatorSetHash: ctx.validators.hash };
    this.out.push({ type: 'persist', height: ctx.height, record: stamped, bytes: encodeWalRecord(stamped) });
  }

  /** Re-sends what a peer that missed this height needs from this node (OwnMessages.toResend). */
  private resend(): void {
    if (this.ctx === null || this.committed) return;
    for (const { message, bytes } of this.own.toResend(this.round)) this.out.push({ type: 'resend', message, bytes });
  }

  // ---------------- receiving ----------------

  private handle(m: ConsensusMessage): Outcome {
    const ctx = this.ctx;
    if (ctx === null) return ['ignore', 'not started'];
    if (m.height < ctx.height) return ['ignore', 'stale height'];
    if (m.height > ctx.height) return this.bufferFuture(ctx, m);
    // 'ignore', not 'reject': an honest relay one height behind still counts a removed member.
    if (!ctx.validators.has(m.author)) return ['ignore', 'author is not a validator at this height'];
    if (m.round > this.round + this.maxRoundDistance) {
      return m.kind === Kind.ROUND_CHANGE ? this.farRoundChange(ctx, m) : ['ignore', 'round too far ahead'];
    }
    // A commit quorum of an earlier round still decides the height, so late COMMITs count.
    if (m.round < this.round && m.kind !== Kind.COMMIT) return ['ignore', 'stale round'];
    const key = `${m.round}:${m.kind}:${toHex(m.author)}`;
    const payload = messageSigningBytes(ctx.chainId, m);
    const first = this.seen.get(key);
    if (first !== undefined && equalBytes(first.payload, payload)) return ['ignore', 'duplicate'];
    if (!verifySignature(ctx, m)) return ['reject', 'bad signature'];
    if (first !== undefined) {
      if (!this.evidenceKeys.has(key)) {
        this.evidenceKeys.add(key);
        this.out.push({ type: 'evidence', evidence: makeEvidence(toCore(first.message), toCore(m)) });
      }
      return ['ignore', 'equivocation'];
    }
    // Attachments are checked before `seen`, so a relay's tampered copy cannot shadow the real one.
    const why = checkAttachments(ctx, m, this.blockInfo);
    if (why !== null) return ['reject', why];
    this.seen.set(key, { payload, message: m });
    this.apply(m);
    return ACCEPT;
  }

  /**
   * A ROUND-CHANGE beyond the round window: only its round is kept (one per author, so
   * bounded), for the f+1 rule. Without it a node that fell more than the window behind
   * (exponential timers diverge quickly) could never catch up with the others' round.
   */
  private farRoundChange(ctx: HeightContext, m: RoundChange): Outcome {
    const author = toHex(m.author);
    if (this.highestRoundChange.of(author) >= m.round) return ['ignore', "not above the author's highest round change"];
    if (!verifySignature(ctx, m)) return ['reject', 'bad signature'];
    this.highestRoundChange.raise(author, m.round);
    this.applyFPlusOne();
    return ACCEPT;
  }

  private apply(m: ConsensusMessage): void {
    const author = toHex(m.author);
    switch (m.kind) {
      case Kind.PROPOSAL:
        if (m.round > this.round) this.advanceTo(m.round, false); // justified: join its round
        if (m.round === this.round) this.acceptProposal(m);
        return;
      case Kind.PREPARE: {
        const prepares = this.roundState(m.round).prepares;
        if (!prepares.has(author)) prepares.set(author, m);
        if (m.round === this.round) this.checkPrepared();
        return;
      }
      case Kind.COMMIT: {
        const k = groupKey(m.round, toHex(m.digest));
        let group = this.commits.get(k);
        if (group === undefined) this.commits.set(k, (group = { round: m.round, digest: m.digest, byAuthor: new Map() }));
        if (!group.byAuthor.has(author)) group.byAuthor.set(author, m);
        this.checkCommitted();
        return;
      }
      case Kind.ROUND_CHANGE:
        this.roundState(m.round).roundChanges.set(author, m);
        this.highestRoundChange.raise(author, m.round);
        this.applyFPlusOne();
        if (m.round === this.round) this.maybePropose();
        return;
    }
  }

  /**
   * A message for a coming height: checked as far as possible without that height's
   * rotation (message-check.ts), so that nothing failing is relayed or buffered, then kept
   * until the height starts (bounded per author and by height distance).
   */
  private bufferFuture(ctx: HeightContext, m: ConsensusMessage): Outcome {
    if (m.height > ctx.height + this.maxHeightDistance) return ['ignore', 'height too far ahead'];
    const outcome = checkMessage({ ...ctx, height: m.height, previousProposer: undefined }, m, this.blockInfo);
    if (outcome[0] !== 'accept') return outcome;
    const added = this.future.add(toHex(m.author), m, toHex(sha256(encodeMessage(m))));
    if (added !== 'added') return ['ignore', added === 'full' ? 'future buffer full for this author' : 'duplicate'];
    if (!this.syncHinted && this.future.authorsAbove(ctx.height) > ctx.validators.faulty) {
      this.syncHinted = true;
      this.out.push({ type: 'sync-needed', height: ctx.height });
    }
    return ACCEPT;
  }

  /** Moves up on others' ROUND-CHANGEs (round-changes.ts): the f+1 rule, then a round its proposer left. */
  private applyFPlusOne(): void {
    const ctx = this.ctx!;
    const joined = this.highestRoundChange.fPlusOneRound(this.me, this.round, ctx.validators.faulty);
    if (joined !== undefined) this.advanceTo(joined, true);
    // One round at a time, and never a round whose proposal already arrived (the timer decides).
    if (this.committed || ctx.previousProposer === undefined || this.rounds.get(this.round)?.proposal) return;
    const proposer = toHex(proposerOf(ctx.validators, ctx.previousProposer, this.round).address);
    if (proposer !== this.me && this.highestRoundChange.proposerLeft(proposer, this.round)) this.advanceTo(this.round + 1, true);
  }

  // ---------------- prepare and commit ----------------

  private acceptProposal(p: Proposal): void {
    const rs = this.roundState(p.round);
    if (rs.proposal !== null) return;
    rs.proposal = p;
    rs.prepares.set(toHex(p.author), toCore(p) as Vote);
    const d = toHex(p.digest);
    this.blocks.set(d, p.block);
    const state = this.validation.get(d);
    if (state === undefined) {
      this.validation.set(d, 'pending');
      this.out.push({ type: 'validate', height: p.height, round: p.round, digest: p.digest, block: p.block, certified: false });
    } else if (state === 'valid') this.onValidProposal();
    this.checkCommitted();
  }

  private onValidated(height: number, digest: Uint8Array, verdict: ValidationVerdict): void {
    const d = toHex(digest);
    if (this.ctx === null || height !== this.ctx.height || this.validation.get(d) !== 'pending') return;
    if (verdict === 'premature') {
      // Not a verdict on the block: forget it, so a re-proposal or a commit quorum asks again.
      this.validation.delete(d);
      this.checkCommitted();
      return;
    }
    this.validation.set(d, verdict);
    if (verdict === 'invalid') return; // no PREPARE: the round times out
    const p = this.rounds.get(this.round)?.proposal;
    if (p != null && equalBytes(p.digest, digest)) this.onValidProposal();
    this.checkCommitted();
  }

  private onValidProposal(): void {
    const ctx = this.ctx!;
    const rs = this.rounds.get(this.round);
    const p = rs?.proposal;
    if (rs === undefined || p == null || this.committed) return;
    if (!equalBytes(p.author, this.cfg.signer.address)) {
      const m = this.sign({ kind: 1, height: ctx.height, round: this.round, author: this.cfg.signer.address, digest: p.digest });
      if (m !== null) rs.prepares.set(this.me, m as Vote);
    }
    this.checkPrepared();
  }

  private checkPrepared(): void {
    const ctx = this.ctx!;
    const p = this.rounds.get(this.round)?.proposal;
    if (p == null || this.committed || this.validation.get(toHex(p.digest)) !== 'valid') return;
    if (this.own.signedAt(this.round, Kind.COMMIT) !== undefined || !ctx.validators.has(this.cfg.signer.address)) return;
    const votes = [...this.roundState(this.round).prepares.values()].filter((v) => equalBytes(v.digest, p.digest));
    if (votes.length < ctx.validators.quorum) return;
    votes.sort((a, b) => compareBytes(a.author, b.author));
    // Persist the prepared certificate before the COMMIT leaves: after a crash this node must
    // still report it in ROUND-CHANGE, or a later round could propose a conflicting block.
    this.prepared = { round: this.round, digest: p.digest, block: p.block, votes };
    this.persist({ type: 'prepared', height: ctx.height, ...this.prepared });
    const seal = this.cfg.signer.blsSign(commitSealBytes(ctx.chainId, ctx.height, this.round, p.digest));
    const m = this.sign({ kind: 2, height: ctx.height, round: this.round, author: this.cfg.signer.address, digest: p.digest, seal });
    if (m !== null) this.apply(m);
  }

  private checkCommitted(): void {
    const ctx = this.ctx!;
    if (this.committed) return;
    for (const k of [...this.commits.keys()].sort()) {
      const { round, digest, byAuthor } = this.commits.get(k)!;
      const d = toHex(digest);
      const block = this.blocks.get(d);
      if (block === undefined || byAuthor.size < ctx.validators.quorum) continue;
      const state = this.validation.get(d);
      if (state === undefined) {
        // A commit quorum of one round decided it: only execution can still object, not the clock.
        this.validation.set(d, 'pending');
        this.out.push({ type: 'validate', height: ctx.height, round, digest, block, certified: true });
      }
      if (state !== 'valid') continue;
      const certificate = certifyCommits(ctx.chainId, ctx.validators, ctx.height, round, digest, byAuthor, this.crypto);
      if (certificate === null) continue;
      this.committed = true;
      this.out.push({ type: 'commit', height: ctx.height, round, block, certificate });
      return;
    }
  }
}
