import { commitSealBytes } from '../core/block.ts';
import { compareBytes, equalBytes, toHex } from '../core/bytes.ts';
import { isJouleError } from '../core/errors.ts';
import type { ValidatorSet } from '../core/validators.ts';
import { certifyCommits } from './certificate.ts';
import { makeEvidence } from './evidence.ts';
import { FutureBuffer } from './future-buffer.ts';
import { buildJustification, checkAttachments, isProposer, verifySignature, type HeightContext } from './justification.ts';
import {
  Kind, decodeMessage, encodeMessage, messageSigningBytes, toCore,
  type Commit, type ConsensusMessage, type Justification, type Proposal, type RoundChange, type Unsigned, type Vote,
} from './messages.ts';
import { defaultBlockDigest, defaultCrypto, type ConsensusAction, type ConsensusCrypto, type ConsensusEvent, type QbftConfig, type Verdict, type WalRecord } from './types.ts';
import { encodeWalRecord, restoreHeight } from './wal-record.ts';

interface RoundState {
  proposal: Proposal | null;
  /** author hex -> vote (PREPAREs, plus the accepted proposal as its proposer's vote) */
  readonly prepares: Map<string, Vote>;
  /** author hex -> ROUND-CHANGE targeting this round (prepared certificate already checked) */
  readonly roundChanges: Map<string, RoundChange>;
}

interface Prepared {
  readonly round: number;
  readonly digest: Uint8Array;
  readonly block: Uint8Array;
  readonly votes: readonly Vote[];
}

type Outcome = readonly [Verdict, string];
const ACCEPT: Outcome = ['accept', 'ok'];

/**
 * QBFT as a pure state machine (etcd raft style): `step(event)` returns the actions the
 * driver must execute, in order. No I/O, clock or randomness; signing and verification are
 * injected. One instance runs one validator; heights are started by the driver.
 */
export class QbftMachine {
  private readonly cfg: QbftConfig;
  private readonly crypto: ConsensusCrypto;
  private readonly digestOf: (block: Uint8Array) => Uint8Array;
  private readonly me: string;
  private readonly maxRoundDistance: number;
  private readonly maxHeightDistance: number;
  private readonly future: FutureBuffer;

  private ctx: HeightContext | null = null;
  private round = 0;
  private committed = false;
  private rounds = new Map<number, RoundState>();
  /** digest hex -> author hex -> COMMIT. Seals are round-independent, so any round counts. */
  private commits = new Map<string, Map<string, Commit>>();
  private blocks = new Map<string, Uint8Array>();
  private validation = new Map<string, 'pending' | 'valid' | 'invalid'>();
  private prepared: Prepared | null = null;
  /** What this node signed at this height, by `${round}:${kind}` (restored from the WAL). */
  private signed = new Map<string, { readonly payload: Uint8Array; readonly message: ConsensusMessage }>();
  /** First accepted message by `${round}:${kind}:${author}`; a different second one is equivocation. */
  private seen = new Map<string, { readonly payload: Uint8Array; readonly message: ConsensusMessage }>();
  private evidenceKeys = new Set<string>();
  private proposalRequested = -1;
  private syncHinted = false;
  private out: ConsensusAction[] = [];

  constructor(config: QbftConfig) {
    this.cfg = config;
    this.crypto = config.crypto ?? defaultCrypto;
    this.digestOf = config.blockDigest ?? defaultBlockDigest;
    this.me = toHex(config.signer.address);
    this.maxRoundDistance = config.maxRoundDistance ?? 10;
    this.maxHeightDistance = config.maxHeightDistance ?? 10;
    this.future = new FutureBuffer(config.maxFuturePerAuthor ?? 64);
  }

  get height(): number { return this.ctx?.height ?? 0; }
  get currentRound(): number { return this.round; }
  get isCommitted(): boolean { return this.committed; }
  get bufferedFutureMessages(): number { return this.future.size; }

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
          outcome = this.handle(decodeMessage(event.bytes, this.cfg.maxMessageBytes));
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
        this.onValidated(event.height, event.digest, event.valid);
        break;
      case 'block-proposed':
        this.onBlockProposed(event.height, event.round, event.block);
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
    this.signed = new Map();
    this.seen = new Map();
    this.evidenceKeys = new Set();
    this.proposalRequested = -1;
    this.syncHinted = false;
    // Restore what this node signed before a crash: it resumes at its highest signed round
    // (never going back to sign in a lower one) and remembers its prepared certificate.
    const restored = restoreHeight(wal, height, this.cfg.signer.address);
    for (const m of restored.own) this.signed.set(`${m.round}:${m.kind}`, { payload: messageSigningBytes(this.cfg.chainId, m), message: m });
    this.prepared = restored.prepared;
    const { own, startRound } = restored;
    this.enterRound(startRound);
    for (const m of own) {
      // Re-send what may have been lost in the crash: identical bytes, so never a conflict.
      if (m.round === startRound || m.kind === Kind.COMMIT) this.out.push({ type: 'broadcast', message: m, bytes: encodeMessage(m) });
      this.handle(m);
    }
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
        kind: 3, height: this.ctx!.height, round, author: this.cfg.signer.address,
        preparedRound: p?.round ?? null, preparedDigest: p?.digest ?? null,
        prepared: p === null ? null : { block: p.block, votes: p.votes },
      });
      if (rc !== null) this.roundState(round).roundChanges.set(this.me, rc as RoundChange);
    }
    this.enterRound(round);
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
    if (this.signed.has(`${this.round}:${Kind.PROPOSAL}`)) return;
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
    if (!isProposer(ctx, round, this.cfg.signer.address) || this.signed.has(`${round}:${Kind.PROPOSAL}`)) return;
    let justification: Justification | null = null;
    if (round > 0) {
      const rcs = this.rounds.get(round)?.roundChanges;
      if (rcs === undefined || rcs.size < ctx.validators.quorum) return;
      const built = buildJustification([...rcs.values()]);
      if (built.reproposal !== null) return this.sendProposal(built.reproposal, built.justification);
      justification = built.justification;
    }
    let digest: Uint8Array;
    try {
      digest = this.digestOf(block);
    } catch {
      return; // the driver built a malformed block; the round will time out
    }
    // The driver built it from our own state: no need to validate it again.
    if (!this.validation.has(toHex(digest))) this.validation.set(toHex(digest), 'valid');
    this.sendProposal(block, justification, digest);
  }

  private sendProposal(block: Uint8Array, justification: Justification | null, digest = this.digestOf(block)): void {
    const m = this.sign({ kind: 0, height: this.ctx!.height, round: this.round, author: this.cfg.signer.address, digest, block, justification });
    if (m !== null) this.acceptProposal(m as Proposal);
  }

  // ---------------- signing (never twice) ----------------

  /**
   * Signs, persists, broadcasts. Refuses anything conflicting with what this node already
   * signed at the same (height, round, kind), including before a crash (WAL-restored).
   */
  private sign(unsigned: Unsigned<ConsensusMessage>): ConsensusMessage | null {
    const ctx = this.ctx!;
    const payload = messageSigningBytes(ctx.chainId, unsigned);
    const key = `${unsigned.round}:${unsigned.kind}`;
    const before = this.signed.get(key);
    if (before !== undefined) {
      if (!equalBytes(before.payload, payload)) {
        this.out.push({ type: 'refused', height: ctx.height, round: unsigned.round, kind: unsigned.kind, reason: 'conflicts with a message signed before (WAL)' });
      }
      return null;
    }
    const m = { ...unsigned, signature: this.cfg.signer.sign(payload) } as ConsensusMessage;
    this.signed.set(key, { payload, message: m });
    this.seen.set(`${key}:${this.me}`, { payload, message: m });
    const record: WalRecord = { type: 'signed', message: m };
    this.out.push({ type: 'persist', height: ctx.height, record, bytes: encodeWalRecord(record) });
    this.out.push({ type: 'broadcast', message: m, bytes: encodeMessage(m) });
    return m;
  }

  // ---------------- receiving ----------------

  private handle(m: ConsensusMessage): Outcome {
    const ctx = this.ctx;
    if (ctx === null) return ['ignore', 'not started'];
    if (m.height < ctx.height) return ['ignore', 'stale height'];
    if (m.height > ctx.height) return this.bufferFuture(ctx, m);
    if (!ctx.validators.has(m.author)) return ['reject', 'author is not a validator'];
    if (m.round > this.round + this.maxRoundDistance) return ['ignore', 'round too far ahead'];
    // Commit seals do not depend on the round, so late COMMITs still help build a certificate.
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
    const why = checkAttachments(ctx, m, this.digestOf);
    if (why !== null) return ['reject', why];
    this.seen.set(key, { payload, message: m });
    this.apply(m);
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
        const d = toHex(m.digest);
        let byAuthor = this.commits.get(d);
        if (byAuthor === undefined) this.commits.set(d, (byAuthor = new Map()));
        if (!byAuthor.has(author)) byAuthor.set(author, m);
        this.checkCommitted();
        return;
      }
      case Kind.ROUND_CHANGE:
        this.roundState(m.round).roundChanges.set(author, m);
        this.applyFPlusOne();
        if (m.round === this.round) this.maybePropose();
        return;
    }
  }

  private bufferFuture(ctx: HeightContext, m: ConsensusMessage): Outcome {
    if (m.height > ctx.height + this.maxHeightDistance) return ['ignore', 'height too far ahead'];
    // Authenticated against the current set (sets change rarely; re-checked on replay).
    if (!ctx.validators.has(m.author)) return ['ignore', 'author unknown at the current height'];
    if (!verifySignature(ctx, m)) return ['reject', 'bad signature'];
    const added = this.future.add(toHex(m.author), m);
    if (added !== 'added') return ['ignore', added === 'full' ? 'future buffer full for this author' : 'duplicate'];
    if (!this.syncHinted && this.future.authorsAbove(ctx.height) > ctx.validators.faulty) {
      this.syncHinted = true;
      this.out.push({ type: 'sync-needed', height: ctx.height });
    }
    return ACCEPT;
  }

  /** f+1 ROUND-CHANGEs for higher rounds: at least one honest validator is there; join the lowest. */
  private applyFPlusOne(): void {
    const lowest = new Map<string, number>();
    for (const [r, rs] of this.rounds) {
      if (r <= this.round) continue;
      for (const a of rs.roundChanges.keys()) if (a !== this.me) lowest.set(a, Math.min(lowest.get(a) ?? r, r));
    }
    if (lowest.size > this.ctx!.validators.faulty) this.advanceTo(Math.min(...lowest.values()), true);
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
      this.out.push({ type: 'validate', height: p.height, round: p.round, digest: p.digest, block: p.block });
    } else if (state === 'valid') this.onValidProposal();
    this.checkCommitted();
  }

  private onValidated(height: number, digest: Uint8Array, valid: boolean): void {
    const d = toHex(digest);
    if (this.ctx === null || height !== this.ctx.height || this.validation.get(d) !== 'pending') return;
    this.validation.set(d, valid ? 'valid' : 'invalid');
    if (!valid) return; // no PREPARE: the round times out
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
    if (this.signed.has(`${this.round}:${Kind.COMMIT}`)) return;
    const votes = [...this.roundState(this.round).prepares.values()].filter((v) => equalBytes(v.digest, p.digest));
    if (votes.length < ctx.validators.quorum) return;
    votes.sort((a, b) => compareBytes(a.author, b.author));
    // Persist the prepared certificate before the COMMIT leaves: after a crash this node must
    // still report it in ROUND-CHANGE, or a later round could propose a conflicting block.
    this.prepared = { round: this.round, digest: p.digest, block: p.block, votes };
    const record: WalRecord = { type: 'prepared', height: ctx.height, round: this.round, digest: p.digest, block: p.block, votes };
    this.out.push({ type: 'persist', height: ctx.height, record, bytes: encodeWalRecord(record) });
    const seal = this.cfg.signer.blsSign(commitSealBytes(ctx.chainId, ctx.height, p.digest));
    const m = this.sign({ kind: 2, height: ctx.height, round: this.round, author: this.cfg.signer.address, digest: p.digest, seal });
    if (m !== null) this.apply(m);
  }

  private checkCommitted(): void {
    const ctx = this.ctx!;
    if (this.committed) return;
    for (const d of [...this.commits.keys()].sort()) {
      const block = this.blocks.get(d);
      const byAuthor = this.commits.get(d)!;
      if (block === undefined || byAuthor.size < ctx.validators.quorum) continue;
      const digest = byAuthor.values().next().value!.digest;
      const state = this.validation.get(d);
      if (state === undefined) {
        this.validation.set(d, 'pending');
        this.out.push({ type: 'validate', height: ctx.height, round: this.round, digest, block });
      }
      if (state !== 'valid') continue;
      const certificate = certifyCommits(ctx.chainId, ctx.validators, digest, byAuthor, this.crypto);
      if (certificate === null) continue;
      this.committed = true;
      this.out.push({ type: 'commit', height: ctx.height, round: certificate.round, block, certificate });
      return;
    }
  }
}
