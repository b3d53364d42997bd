import { compareBytes, equalBytes, toHex } from '../core/bytes.ts';
import type { ValidatorSet } from '../core/validators.ts';
import { messageSigningBytes, type RoundChange, type SignedCore, type Vote } from '../core/signed-core.ts';
import type { ConsensusMessage, Justification, Proposal } from './messages.ts';
import { proposerOf } from './proposer.ts';
import type { Prepared } from './height-state.ts';
import type { BlockInfo } from './types.ts';
import type { ConsensusCrypto } from './crypto.ts';

/** What checking a message needs to know about its height. */
export interface HeightContext {
  readonly chainId: string;
  readonly height: number;
  readonly validators: ValidatorSet;
  /**
   * The previous block's proposer (null at height 1), which fixes the rotation; `undefined`
   * when not yet known (a message for a future height, checked before it is buffered):
   * then every check that depends on the rotation is left for when the height starts.
   */
  readonly previousProposer: Uint8Array | null | undefined;
  readonly crypto: ConsensusCrypto;
}

/** True if the author is a validator of this height and signed the message. */
export function verifySignature(ctx: HeightContext, m: ConsensusMessage | SignedCore): boolean {
  const i = ctx.validators.indexOf(m.author);
  if (i < 0) return false;
  return ctx.crypto.verify(ctx.validators.at(i).identityKey, messageSigningBytes(ctx.chainId, m), m.signature);
}

/** Scheduled proposer check; true when the rotation is unknown (checked again when the height starts). */
export function isProposer(ctx: HeightContext, round: number, author: Uint8Array): boolean {
  if (ctx.previousProposer === undefined) return true;
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
export function checkRoundChangePrepared(ctx: HeightContext, rc: RoundChange, blockInfo: (block: Uint8Array) => BlockInfo): string | null {
  if (rc.preparedRound === null) return rc.prepared === null ? null : 'prepared certificate without a prepared round';
  if (rc.prepared === null || rc.preparedDigest === null) return 'prepared round without a certificate';
  return checkPrepared(ctx, { round: rc.preparedRound, digest: rc.preparedDigest, block: rc.prepared.block, votes: rc.prepared.votes }, blockInfo);
}

/**
 * A prepared certificate this height can be locked on: its block hashes to its digest, was
 * built no later than the prepared round and for THIS height's validator set, and a quorum
 * of that set voted for it (checkVotes). The set check matters after an emergency
 * transition: a certificate the replaced set made may still verify, when its voters are all
 * members of the new set and a quorum of it, but its block names the old set and is invalid
 * under the new one. Kept as a lock, every later round would have to re-propose a block no
 * validator accepts, and the height would never end.
 */
export function checkPrepared(ctx: HeightContext, p: Prepared, blockInfo: (block: Uint8Array) => BlockInfo): string | null {
  let info: BlockInfo;
  try {
    info = blockInfo(p.block);
  } catch {
    return 'prepared block is malformed';
  }
  if (!equalBytes(info.digest, p.digest)) return 'prepared block does not match the prepared digest';
  if (info.round > p.round) return 'prepared block was built for a later round than it was prepared in';
  if (!equalBytes(info.validatorSetHash, ctx.validators.hash)) return "prepared block names another validator set than this height's";
  return checkVotes(ctx, p.round, p.digest, p.votes);
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

/** The highest prepared round a justification proves, or null if none prepared. */
function highestPreparedRound(j: Justification | null): number | null {
  let highest: number | null = null;
  for (const rc of j?.roundChanges ?? []) if (rc.preparedRound !== null && (highest === null || rc.preparedRound > highest)) highest = rc.preparedRound;
  return highest;
}

/**
 * Binds the block to the schedule (Besu: the proposer of a round is fixed by height and
 * round; the header's proposer seeds the next height's rotation, so it must not be the
 * proposer's to choose). A fresh block is built in the proposal's own round by its author;
 * an older block may come back only as the re-proposal of the highest prepared round the
 * justification proves, and then names the proposer of the round it was built in.
 */
function checkProposerBinding(ctx: HeightContext, p: Proposal, info: BlockInfo): string | null {
  if (info.round > p.round) return `block built for round ${info.round}, proposed in round ${p.round}`;
  if (info.round < p.round) {
    const prepared = highestPreparedRound(p.justification);
    if (prepared === null || info.round > prepared) return `block built in round ${info.round} is not the re-proposal of a prepared block`;
  }
  if (!isProposer(ctx, info.round, info.proposer)) return `header.proposer is not the scheduled proposer of round ${info.round}`;
  return null;
}

/**
 * Checks of a message's unsigned attachments (proposal block and justification, prepared
 * certificate) and the proposer binding. With an unknown rotation (future height) the
 * rotation-dependent checks are skipped; everything else is checked the same.
 */
export function checkAttachments(ctx: HeightContext, m: ConsensusMessage, blockInfo: (block: Uint8Array) => BlockInfo): string | null {
  if (m.kind === 0) {
    if (!isProposer(ctx, m.round, m.author)) return 'proposal not from the proposer of its round';
    let info: BlockInfo;
    try {
      info = blockInfo(m.block);
    } catch {
      return 'proposed block is malformed';
    }
    if (!equalBytes(info.digest, m.digest)) return 'proposed block does not match the signed digest';
    return checkJustification(ctx, m) ?? checkProposerBinding(ctx, m, info);
  }
  if (m.kind === 3) return checkRoundChangePrepared(ctx, m, blockInfo);
  return null;
}
