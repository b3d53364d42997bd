import { blockHash, decodeBlock, type CommitCertificate } from '../core/block.ts';
import type { ValidatorSet } from '../core/validators.ts';
import type { ConsensusMessage } from './messages.ts';
import type { Vote } from '../core/signed-core.ts';
import type { Evidence } from '../core/evidence.ts';
import type { ConsensusCrypto, Signer } from './crypto.ts';

/** What the machine reads from a block: its digest and the (round, proposer) it was built for. */
export interface BlockInfo {
  readonly digest: Uint8Array;
  /** The round the block was built in (header.round). */
  readonly round: number;
  /** The proposer the header names (header.proposer). */
  readonly proposer: Uint8Array;
  /** The validator set the header names (header.validatorSetHash): a block is valid only under that set. */
  readonly validatorSetHash: Uint8Array;
}

/** Default: decodes the header (throws on a malformed block). */
export function defaultBlockInfo(block: Uint8Array): BlockInfo {
  const { header } = decodeBlock(block);
  return { digest: blockHash(header), round: header.round, proposer: header.proposer, validatorSetHash: header.validatorSetHash };
}

/** The block digest alone (the hash the commit seals sign). */
export function defaultBlockDigest(block: Uint8Array): Uint8Array {
  return defaultBlockInfo(block).digest;
}

export interface QbftConfig {
  readonly chainId: string;
  readonly signer: Signer;
  /** Round r lasts requestTimeoutMs * 2^r (never capped). */
  readonly requestTimeoutMs: number;
  readonly crypto?: ConsensusCrypto;
  /** Reads digest, round and proposer of encoded block bytes; the digest is the hash the commit seals sign. */
  readonly blockInfo?: (block: Uint8Array) => BlockInfo;
  /** Messages for rounds further ahead than this are not kept, except each author's highest ROUND-CHANGE (default 10). */
  readonly maxRoundDistance?: number;
  /** Messages for heights further ahead than this are dropped (default 10). */
  readonly maxHeightDistance?: number;
  /** Future-height messages buffered per author (default 64). */
  readonly maxFuturePerAuthor?: number;
  /** Largest accepted message in bytes (default 16 MiB). */
  readonly maxMessageBytes?: number;
}

// ---------------- events (inputs) ----------------

export type ConsensusEvent =
  /** First event after (re)boot: the height to run, its validator set, the previous block's
   * proposer (null at height 1), and every WAL record replayed from disk. */
  | {
      readonly type: 'start';
      readonly height: number;
      readonly validators: ValidatorSet;
      readonly previousProposer: Uint8Array | null;
      readonly wal: readonly WalRecord[];
    }
  /** The block of height-1 is stored (by our commit or by sync/import): run `height`. */
  | { readonly type: 'new-height'; readonly height: number; readonly validators: ValidatorSet; readonly previousProposer: Uint8Array | null }
  /** Raw bytes from the network (or a decoded message from the driver's pre-validation). */
  | {
      readonly type: 'message';
      readonly bytes: Uint8Array;
      /** `decodeMessage(bytes)`, when the caller already decoded it (gossip validation): not decoded again. */
      readonly decoded?: ConsensusMessage;
    }
  | { readonly type: 'timeout'; readonly height: number; readonly round: number }
  /**
   * Answer to a `validate` action. 'invalid' must not depend on the local clock (it is
   * final for the height); a block whose timestamp is still ahead of the local clock is
   * 'premature': not cached, validated again when it is proposed again or a round starts.
   */
  | { readonly type: 'validated'; readonly height: number; readonly digest: Uint8Array; readonly verdict: ValidationVerdict }
  /**
   * Re-send what this node signed for its current height and round (latest ROUND-CHANGE,
   * its proposal, PREPARE and COMMITs): on a peer's (re)connection and periodically while
   * stuck, because gossip during a partition is lost and nobody else will repeat it.
   */
  | { readonly type: 'resend' }
  /** Answer to a `propose` action: the block the driver built. */
  | { readonly type: 'block-proposed'; readonly height: number; readonly round: number; readonly block: Uint8Array };

// ---------------- actions (outputs, executed in order) ----------------

/**
 * What this node is about to sign (or has proven), written to the WAL before any send.
 * `validatorSetHash`: the height's validator set when it was written (absent in records of
 * nodes before it was added), so that a node restarted after an emergency transition tells
 * what it signed under the replaced set (wal-record.ts restoreHeight).
 */
export type WalRecord =
  | { readonly type: 'signed'; readonly message: ConsensusMessage; readonly validatorSetHash?: Uint8Array }
  | {
      readonly type: 'prepared';
      readonly height: number;
      readonly round: number;
      readonly digest: Uint8Array;
      readonly block: Uint8Array;
      readonly votes: readonly Vote[];
      readonly validatorSetHash?: Uint8Array;
    };

export type Verdict = 'accept' | 'ignore' | 'reject';
export type ValidationVerdict = 'valid' | 'invalid' | 'premature';

export type ConsensusAction =
  /** Append `bytes` (the encoded record) to the WAL and fsync BEFORE executing any later action. */
  | { readonly type: 'persist'; readonly height: number; readonly record: WalRecord; readonly bytes: Uint8Array }
  | { readonly type: 'broadcast'; readonly message: ConsensusMessage; readonly bytes: Uint8Array }
  /** Answer to `resend`: send these bytes again, directly to peers (gossip would drop a repeat). */
  | { readonly type: 'resend'; readonly message: ConsensusMessage; readonly bytes: Uint8Array }
  /** Fire `timeout(height, round)` after `ms`. Earlier timers may be cancelled; stale ones are ignored. */
  | { readonly type: 'schedule-timeout'; readonly height: number; readonly round: number; readonly ms: number }
  /**
   * Validate (execute) the block and answer with a `validated` event. `certified`: a commit
   * quorum of one round already decided it, so the local clock has no say (only execution).
   */
  | {
      readonly type: 'validate';
      readonly height: number;
      readonly round: number;
      readonly digest: Uint8Array;
      readonly block: Uint8Array;
      readonly certified: boolean;
    }
  /** This node proposes: build a block for `height` and answer with `block-proposed`. */
  | { readonly type: 'propose'; readonly height: number; readonly round: number }
  /** Final: store block + certificate atomically, then send `new-height`. */
  | { readonly type: 'commit'; readonly height: number; readonly round: number; readonly block: Uint8Array; readonly certificate: CommitCertificate }
  | { readonly type: 'evidence'; readonly evidence: Evidence }
  /** Gossip verdict for the message event just processed (accept: relay; reject: penalise sender). */
  | { readonly type: 'verdict'; readonly verdict: Verdict; readonly reason: string }
  /** f+1 validators sent valid messages for heights above ours: fetch blocks from `height` on. */
  | { readonly type: 'sync-needed'; readonly height: number }
  /** The WAL forbids signing this (it conflicts with something signed before a crash). */
  | { readonly type: 'refused'; readonly height: number; readonly round: number; readonly kind: number; readonly reason: string };
