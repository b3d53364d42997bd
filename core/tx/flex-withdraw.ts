import type { Tx } from '../tx.ts';
import { idBody } from './id-body.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/** Type 45, flex-withdraw: the bid's aggregator withdraws it. Wire form: [bidId (32)]. */
export interface FlexWithdrawBody {
  readonly bidId: Uint8Array;
}

const codec = idBody('bidId', 'bid id (the flex-bid tx hash)');

export const encodeFlexWithdrawBody = (b: FlexWithdrawBody): Uint8Array => codec.encode(b);

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.*`. */
export const decodeFlexWithdrawBody = (bytes: Uint8Array): FlexWithdrawBody => codec.decode(bytes);

export function buildFlexWithdraw(args: SenderArgs & FlexWithdrawBody): Tx {
  return signBody(args, TxType.flexWithdraw, encodeFlexWithdrawBody({ bidId: args.bidId }));
}
