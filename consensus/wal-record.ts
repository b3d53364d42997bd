import { decode, encode, readArray, readBytes, readUint } from '../core/codec.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { HASH_LENGTH } from '../core/hash.ts';
import { equalBytes } from '../core/bytes.ts';
import { coreFromWire, coreToWire, type Vote } from '../core/signed-core.ts';
import { messageFromWire, messageToWire, type ConsensusMessage } from './messages.ts';
import type { WalRecord } from './types.ts';

/**
 * WAL record encoding (the file framing lives in node/consensus/wal.ts):
 *   [0, message]                                  a message this node signed
 *   [1, height, round, digest, block, [votes...]]  this node prepared (sent COMMIT) here
 * The prepared record is what makes a restarted node report its prepared round in
 * ROUND-CHANGE; forgetting it would let a later round propose a conflicting block.
 */
export function encodeWalRecord(r: WalRecord): Uint8Array {
  if (r.type === 'signed') return encode([0, messageToWire(r.message)]);
  return encode([1, r.height, r.round, r.digest, r.block, r.votes.map(coreToWire)]);
}

export function decodeWalRecord(bytes: Uint8Array): WalRecord {
  const f = readArray(decode(bytes, 'walRecord'), 'walRecord');
  if (f[0] === 0 && f.length === 2) return { type: 'signed', message: messageFromWire(f[1]!, 'walRecord.message') };
  if (f[0] === 1 && f.length === 6) {
    return {
      type: 'prepared',
      height: readUint(f[1]!, 'walRecord.height'),
      round: readUint(f[2]!, 'walRecord.round'),
      digest: readBytes(f[3]!, 'walRecord.digest', HASH_LENGTH),
      block: readBytes(f[4]!, 'walRecord.block'),
      votes: readArray(f[5]!, 'walRecord.votes').map((v, i) => coreFromWire(v, `walRecord.votes[${i}]`, [0, 1]) as Vote),
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
  readonly prepared: { round: number; digest: Uint8Array; block: Uint8Array; votes: readonly Vote[] } | null;
  /** The round to resume in: the highest round it signed or prepared in (never lower). */
  readonly startRound: number;
}

/**
 * What a restarting validator must remember about `height` from its replayed WAL.
 * `provable`: whether a prepared certificate proves itself to this height's validators
 * (one made by a set that an emergency transition has since replaced does not, and a
 * round change carrying it would be refused by every peer). Rounds count whether or not.
 */
export function restoreHeight(
  records: readonly WalRecord[],
  height: number,
  me: Uint8Array,
  provable: (p: NonNullable<RestoredHeight['prepared']>) => boolean,
): RestoredHeight {
  const own: ConsensusMessage[] = [];
  let prepared: RestoredHeight['prepared'] = null;
  let startRound = 0;
  for (const rec of records) {
    if (walRecordHeight(rec) !== height) continue;
    if (rec.type === 'signed') {
      if (!equalBytes(rec.message.author, me)) continue;
      own.push(rec.message);
      startRound = Math.max(startRound, rec.message.round);
    } else {
      startRound = Math.max(startRound, rec.round);
      const p = { round: rec.round, digest: rec.digest, block: rec.block, votes: rec.votes };
      if ((prepared === null || rec.round > prepared.round) && provable(p)) prepared = p;
    }
  }
  own.sort((a, b) => a.round - b.round || a.kind - b.kind);
  return { own, prepared, startRound };
}
