import { decode, encode, readArray, readString } from '../codec.ts';
import { checkReason, checkTarget, MAX_REASON_BYTES, readTarget, targetWire, type ReversalTarget } from '../reversal.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/**
 * Type 46, reversal-propose: a governor proposes reversing trade `seq`'s settlement in the
 * market (zone, interval), with a reason; the proposal counts as its approval.
 * Wire form: [zone, intervalStartMs, seq, buyer, seller, reason] (reason: 1..512 bytes of UTF-8).
 */
export interface ReversalProposeBody extends ReversalTarget {
  readonly reason: string;
}

export function encodeReversalProposeBody(b: ReversalProposeBody): Uint8Array {
  checkTarget(b, 'tx.body');
  checkReason(b.reason, 'tx.body.reason');
  return encode([...targetWire(b), b.reason]);
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.*`. */
export function decodeReversalProposeBody(bytes: Uint8Array): ReversalProposeBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 6);
  const target = readTarget(f, 'tx.body');
  return { ...target, reason: checkReason(readString(f[5]!, 'tx.body.reason', MAX_REASON_BYTES), 'tx.body.reason') };
}

export function buildReversalPropose(args: SenderArgs & ReversalProposeBody): Tx {
  const { zone, intervalStartMs, seq, buyer, seller, reason } = args;
  return signBody(args, TxType.reversalPropose, encodeReversalProposeBody({ zone, intervalStartMs, seq, buyer, seller, reason }));
}
