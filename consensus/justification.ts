import { compareBytes, equalBytes, toHex } from '../core/bytes.ts';
import type { ValidatorSet } from '../core/validators.ts';
import { messageSigningBytes, type ConsensusMessage, type Justification, type Proposal, type RoundChange, type SignedCore, type Vote } from './messages.ts';
import { proposerOf } from './proposer.ts';
import type { ConsensusCrypto } from './types.ts';

/** What checking a message needs to know about its height. */
export interface HeightContext {
  readonly chainId: string;
  readonly height: number;
  readonly validators: ValidatorSet;
  readonly previousProposer: Uint8Array | null;
  readonly crypto: ConsensusCrypto;
}

/** True if the author is a validator of this height and signed the message. */
export function verifySignature(ctx: HeightContext, m: ConsensusMessage | SignedCore): boolean {
  const i = ctx.validators.indexOf(m.author);
  if (i < 0) return false;
  return ctx.crypto.verify(ctx.validators.at(i).identityKey, messageSigningBytes(ctx.chainId, m), m.signature);
}

export function isProposer(ctx: HeightContext, round: number, author: Uint8Array): boolean {
  return equalBytes(proposerOf(ctx.validators, ctx.previousProposer, round).address, author);
}

/**
 * A prepared certificate: a quorum of distinct validators voted for `digest` at
 * (height, round). A vote is a PREPARE, or the PROPOSAL of that round's proposer (the
 * proposal counts as its author's prepare). Returns null if valid, else the reason.
 */
export function checkVotes(ctx: HeightContext, round: number, digest: Uint8Array, votes: readonly Vote[]): string | null {
  const authors = new Set<string>();
  for (const v of votes) {
    if (v.height !== ctx.height || v.round !== round) return `vote for ${v.height}/${v.round}, expected ${ctx.height}/${round}`;
    if (!equalBytes(v.digest, digest)) return 'vote for a different digest';
    const a = toHex(v.author);
    if (authors.has(a)) return 'duplicate vote author';
    authors.add(a);
    if (v.kind === 0 && !isProposer(ctx, round, v.author)) return 'proposal vote not from the proposer of its round';
    if (!verifySignature(ctx, v)) return 'vote signature invalid or author not a validator';
  }
  if (authors.size < ctx.validators.quorum) return `${authors.size} votes, quorum is ${ctx.validators.quorum}`;
  return null;
}

/** A ROUND-CHANGE that claims a prepared round must prove it (block and quorum of votes). */
export function checkRoundChangePrepared(ctx: HeightContext, rc: RoundChange, digestOf: (block: Uint8Array) => Uint8Array): string | null {
  if (rc.preparedRound === null) return rc.prepared === null ? null : 'prepared certificate without a prepared round';
  if (rc.prepared === null || rc.preparedDigest === null) return 'prepared round without a certificate';
  let d: Uint8Array;
  try {
    d = digestOf(rc.prepared.block);
  } catch {
    return 'prepared block is malformed';
  }
  if (!equalBytes(d, rc.preparedDigest)) return 'prepared block does not match the prepared digest';
  return checkVotes(ctx, rc.preparedRound, rc.preparedDigest, rc.prepared.votes);
}

/**
 * Exact check of a round > 0 proposal's justification: a quorum of distinct validators'
 * ROUND-CHANGEs for this height and round, each with a prepared round below it; if any
 * prepared, the proposal must carry the digest of the highest prepared round (every
 * round change at that round agreeing) and a valid quorum of votes proving it.
 */
export function checkJustification(ctx: HeightContext, p: Proposal): string | null {
  const j = p.justification;
  if (p.round === 0) return j === null ? null : 'round 0 proposal must not carry a justification';
  if (j === null) return 'round > 0 proposal without justification';
  const authors = new Set<string>();
  let highest: RoundChange | null = null;
  for (const rc of j.roundChanges) {
    if (rc.height !== ctx.height || rc.round !== p.round) return `round change for ${rc.height}/${rc.round}, expected ${ctx.height}/${p.round}`;
    const a = toHex(rc.author);
    if (authors.has(a)) return 'duplicate round change author';
    authors.add(a);
    if (rc.preparedRound !== null && rc.preparedRound >= p.round) return 'prepared round not lower than the proposal round';
    if (!verifySignature(ctx, rc)) return 'round change signature invalid or author not a validator';
    if (rc.preparedRound !== null && (highest === null || rc.preparedRound > highest.preparedRound!)) highest = rc;
  }
  if (authors.size < ctx.validators.quorum) return `${authors.size} round changes, quorum is ${ctx.validators.quorum}`;
  if (highest === null) return j.votes.length === 0 ? null : 'votes given although nothing was prepared';
  for (const rc of j.roundChanges) {
    if (rc.preparedRound === highest.preparedRound && !equalBytes(rc.preparedDigest!, p.digest)) {
      return 'round changes at the highest prepared round disagree with the proposed digest';
    }
  }
  return checkVotes(ctx, highest.preparedRound!, p.digest, j.votes);
}

/**
 * The proposer's side: from the (already verified) ROUND-CHANGEs of a quorum, the
 * justification to attach and, if any prepared, the block it must re-propose (the block of
 * the highest prepared round). Sorted by author so the output does not depend on arrival order.
 */
export function buildJustification(rcs: readonly RoundChange[]): { justification: Justification; reproposal: Uint8Array | null } {
  const sorted = [...rcs].sort((a, b) => compareBytes(a.author, b.author));
  let highest: RoundChange | null = null;
  for (const rc of sorted) {
    if (rc.preparedRound !== null && (highest === null || rc.preparedRound > highest.preparedRound!)) highest = rc;
  }
  const roundChanges = sorted.map((rc) => ({ ...rc, prepared: null }));
  if (highest === null || highest.prepared === null) return { justification: { roundChanges, votes: [] }, reproposal: null };
  return { justification: { roundChanges, votes: highest.prepared.votes }, reproposal: highest.prepared.block };
}

/** Checks of a message's unsigned attachments (proposal block and justification, prepared certificate). */
export function checkAttachments(ctx: HeightContext, m: ConsensusMessage, digestOf: (block: Uint8Array) => Uint8Array): string | null {
  if (m.kind === 0) {
    if (!isProposer(ctx, m.round, m.author)) return 'proposal not from the proposer of its round';
    let d: Uint8Array;
    try {
      d = digestOf(m.block);
    } catch {
      return 'proposed block is malformed';
    }
    if (!equalBytes(d, m.digest)) return 'proposed block does not match the signed digest';
    return checkJustification(ctx, m);
  }
  if (m.kind === 3) return checkRoundChangePrepared(ctx, m, digestOf);
  return null;
}
