import { decode, encode, readArray, readBytes } from '../codec.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/** Type 45, flex-withdraw: the bid's aggregator withdraws it. Wire form: [bidId (32)]. */
export interface FlexWithdrawBody {
  readonly bidId: Uint8Array;
}

function check(b: FlexWithdrawBody): void {
  if (!(b.bidId instanceof Uint8Array) || b.bidId.length !== 32)
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, 'must be a 32-byte bid id (the flex-bid tx hash)', 'tx.body.bidId');
}

export function encodeFlexWithdrawBody(b: FlexWithdrawBody): Uint8Array {
  check(b);
  return encode([b.bidId]);
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.*`. */
export function decodeFlexWithdrawBody(bytes: Uint8Array): FlexWithdrawBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 1);
  const body = { bidId: readBytes(f[0]!, 'tx.body.bidId', 32) };
  check(body);
  return body;
}

export function buildFlexWithdraw(args: SenderArgs & FlexWithdrawBody): Tx {
  return signBody(args, TxType.flexWithdraw, encodeFlexWithdrawBody({ bidId: args.bidId }));
}
