import { decode, encode, readArray, readBytes } from '../codec.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/** Type 44, flex-confirm: the bid's aggregator confirms an activation. Wire form: [activationId (32)]. */
export interface FlexConfirmBody {
  readonly activationId: Uint8Array;
}

function check(b: FlexConfirmBody): void {
  if (!(b.activationId instanceof Uint8Array) || b.activationId.length !== 32)
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, 'must be a 32-byte activation id (the flex-activate tx hash)', 'tx.body.activationId');
}

export function encodeFlexConfirmBody(b: FlexConfirmBody): Uint8Array {
  check(b);
  return encode([b.activationId]);
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.*`. */
export function decodeFlexConfirmBody(bytes: Uint8Array): FlexConfirmBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 1);
  const body = { activationId: readBytes(f[0]!, 'tx.body.activationId', 32) };
  check(body);
  return body;
}

export function buildFlexConfirm(args: SenderArgs & FlexConfirmBody): Tx {
  return signBody(args, TxType.flexConfirm, encodeFlexConfirmBody({ activationId: args.activationId }));
}
