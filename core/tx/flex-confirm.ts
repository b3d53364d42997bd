import type { Tx } from '../tx.ts';
import { idBody } from './id-body.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/** Type 44, flex-confirm: the bid's aggregator confirms an activation. Wire form: [activationId (32)]. */
export interface FlexConfirmBody {
  readonly activationId: Uint8Array;
}

const codec = idBody('activationId', 'activation id (the flex-activate tx hash)');

export const encodeFlexConfirmBody = (b: FlexConfirmBody): Uint8Array => codec.encode(b);

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.*`. */
export const decodeFlexConfirmBody = (bytes: Uint8Array): FlexConfirmBody => codec.decode(bytes);

export function buildFlexConfirm(args: SenderArgs & FlexConfirmBody): Tx {
  return signBody(args, TxType.flexConfirm, encodeFlexConfirmBody({ activationId: args.activationId }));
}
