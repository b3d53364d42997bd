import { decode, encode, readArray, readBytes } from '../codec.ts';
import { parseOrderId } from '../market.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/**
 * Type 33, order-cancel: the owner withdraws an open order before its market's gate
 * closure; its escrow or collateral is refunded in full. Wire form: [orderId] (core/market.ts
 * orderId: the order's market, side, price and position, so the tx names every key it reads).
 */
export interface OrderCancelBody {
  readonly orderId: Uint8Array;
}

export function encodeOrderCancelBody(b: OrderCancelBody): Uint8Array {
  parseOrderId(b.orderId, 'tx.body.orderId');
  return encode([b.orderId]);
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.orderId`. */
export function decodeOrderCancelBody(bytes: Uint8Array): OrderCancelBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 1);
  const orderId = readBytes(f[0]!, 'tx.body.orderId');
  parseOrderId(orderId, 'tx.body.orderId');
  return { orderId };
}

export function buildOrderCancel(args: SenderArgs & OrderCancelBody): Tx {
  return signBody(args, TxType.orderCancel, encodeOrderCancelBody({ orderId: args.orderId }));
}
