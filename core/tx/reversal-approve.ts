import { decode, encode, readArray } from '../codec.ts';
import { checkTarget, readTarget, targetWire, type ReversalTarget } from '../reversal.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/**
 * Type 47, reversal-approve: another governor approves the proposed reversal of trade
 * `seq`'s settlement in the market (zone, interval); the k-th approval executes it.
 * Wire form: [zone, intervalStartMs, seq, buyer, seller].
 */
export type ReversalApproveBody = ReversalTarget;

export function encodeReversalApproveBody(b: ReversalApproveBody): Uint8Array {
  checkTarget(b, 'tx.body');
  return encode(targetWire(b));
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.*`. */
export function decodeReversalApproveBody(bytes: Uint8Array): ReversalApproveBody {
  return readTarget(readArray(decode(bytes, 'tx.body'), 'tx.body', 5), 'tx.body');
}

export function buildReversalApprove(args: SenderArgs & ReversalApproveBody): Tx {
  const { zone, intervalStartMs, seq, buyer, seller } = args;
  return signBody(args, TxType.reversalApprove, encodeReversalApproveBody({ zone, intervalStartMs, seq, buyer, seller }));
}
