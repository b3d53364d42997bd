import { decode, encode, readArray, readBytes, readUint } from '../core/codec.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { HASH_LENGTH } from '../core/hash.ts';
import { equalBytes } from '../core/bytes.ts';
import { coreFromWire, coreToWire, type Vote } from '../core/signed-core.ts';
import { messageFromWire, messageToWire, type ConsensusMessage } from './messages.ts';
import type { Prepared } from './height-state.ts';
import type { WalRecord } from './types.ts';

/**
 * WAL record encoding (the file framing lives in node/consensus/wal.ts):
 *   [0, message, setHash?]                                  a message this node signed
 *   [1, height, round, digest, block, [votes...], setHash?]  this node prepared (sent COMMIT) here
 * The prepared record is what makes a restarted node report its prepared round in
 * ROUND-CHANGE; forgetting it would let a later round propose a conflicting block.
 * `setHash` (the height's validator set when written) is absent in records of nodes before
 * it was added; they still decode.
 */
export function encodeWalRecord(r: WalRecord): Uint8Array {
  const set = r.validatorSetHash === undefined ? [] : [r.validatorSetHash];
  if (r.type === 'signed') return encode([0, messageToWire(r.message), ...set]);
  return encode([1, r.height, r.round, r.digest, r.block, r.votes.map(coreToWire), ...set]);
}

export function decodeWalRecord(bytes: Uint8Array): WalRecord {
  const f = readArray(decode(bytes, 'walRecord'), 'walRecord');
  const set = (at: number) => (f.length > at ? { validatorSetHash: readBytes(f[at]!, 'walRecord.validatorSetHash', HASH_LENGTH) } : {});
  if (f[0] === 0 && (f.length === 2 || f.length === 3)) return { type: 'signed', message: messageFromWire(f[1]!, 'walRecord.message'), ...set(2) };
  if (f[0] === 1 && (f.length === 6 || f.length === 7)) {
    return {
      type: 'prepared',
      height: readUint(f[1]!, 'walRecord.height'),
      round: readUint(f[2]!, 'walRecord.round'),
      digest: readBytes(f[3]!, 'walRecord.digest', HASH_LENGTH),
      block: readBytes(f[4]!, 'walRecord.block'),
      votes: readArray(f[5]!, 'walRecord.votes').map((v, i) => coreFromWire(v, `walRecord.votes[${i}]`, [0, 1]) as Vote),
      ...set(6),
    };
  }
  throw new JouleError(ErrorCode.WAL_CORRUPT, 'unknown WAL record type', 'walRecord');
}

export function walRecordHeight(r: WalRecord): number {
  return r.type === 'signed' ? r.message.height : r.height;
}

export interface RestoredHeight {
  /** This node's own signed messages at the height, ordered by (round, kind). */
  readonly own: ConsensusMessage[];
  /** Its highest prepared certificate at the height that `provable` accepts, if any. */
  readonly prepared: Prepared | null;
  /** The round to resume in: the highest round it signed or prepared in (never lower). */
  readonly startRound: number;
  /**
   * It signed or prepared in `startRound` under another validator set than the height's now
   * (an emergency transition replaced it): what it signed there stands, so it can vote for
   * no block of the new set in that round.
   */
  readonly startRoundReplaced: boolean;
}

/**
 * What a restarting validator must remember about `height` from its replayed WAL, now that
 * the height's validator set is `validatorSetHash`. A record written under another set
 * (its hash differs; for a prepared record without one, `provable` refuses it) is from
 * before an emergency transition: its prepared certificate is dropped (the new set cannot
 * verify it, or its block names the old set, and a round change carrying it would be
 * refused by every peer). Rounds count whichever the set.
 */
export function restoreHeight(
  records: readonly WalRecord[],
  height: number,
  me: Uint8Array,
  validatorSetHash: Uint8Array,
  provable: (p: Prepared) => boolean,
): RestoredHeight {
  const own: ConsensusMessage[] = [];
  let prepared: Prepared | null = null;
  let startRound = 0;
  /** The highest round it signed or prepared in under another set (-1: none). */
  let replacedTop = -1;
  const otherSet = (rec: WalRecord) => rec.validatorSetHash !== undefined && !equalBytes(rec.validatorSetHash, validatorSetHash);
  for (const rec of records) {
    if (walRecordHeight(rec) !== height) continue;
    if (rec.type === 'signed') {
      if (!equalBytes(rec.message.author, me)) continue;
      own.push(rec.message);
      startRound = Math.max(startRound, rec.message.round);
      if (otherSet(rec)) replacedTop = Math.max(replacedTop, rec.message.round);
    } else {
      startRound = Math.max(startRound, rec.round);
      const p = { round: rec.round, digest: rec.digest, block: rec.block, votes: rec.votes };
      if (otherSet(rec) || !provable(p)) replacedTop = Math.max(replacedTop, rec.round);
      else if (prepared === null || rec.round > prepared.round) prepared = p;
    }
  }
  own.sort((a, b) => a.round - b.round || a.kind - b.kind);
  return { own, prepared, startRound, startRoundReplaced: replacedTop === startRound };
}
