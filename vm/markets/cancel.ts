import type { BlockEvent } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { marketOfOrder, parseOrderId, type BookOrder } from '../../core/market.ts';
import { decodeOrderCancelBody, type OrderCancelBody } from '../../core/tx/order-cancel.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import {
  bookKey,
  deleteBookOrder,
  deviceOfferKey,
  getAccountSide,
  getBookOrder,
  getDeviceOffer,
  getMarketById,
  marketKey,
  putAccountSide,
  putDeviceOffer,
  putMarket,
  sideKey,
} from '../../state/markets.ts';
import type { StateReader } from '../../state/overlay.ts';
import { addressText, unlock } from '../accounts.ts';
import type { ChainContext, ExecContext, TxHandler } from '../types.ts';
import { requireOpenMarket } from './rules.ts';

/**
 * Type 33, order-cancel: the owner withdraws an open order before its market's gate
 * closure; its escrow or collateral goes back to its balance in full.
 */

function openOrder(state: StateReader, body: OrderCancelBody, tx: Tx, ctx: ChainContext): BookOrder {
  const ref = parseOrderId(body.orderId, 'tx.body.orderId');
  requireOpenMarket(state, marketOfOrder(body.orderId), ref.intervalStartMs, ctx.params, ctx.timestamp, 'tx.body.orderId');
  const o = getBookOrder(state, ref.side, body.orderId);
  if (o === undefined) throw new JouleError(ErrorCode.MARKET_ORDER_UNKNOWN, 'no open order has this id', 'tx.body.orderId');
  if (!equalBytes(o.owner, tx.from)) throw new JouleError(ErrorCode.TX_UNAUTHORIZED, "the order is not the sender's", 'tx.body.orderId');
  return o;
}

function execute({ state, tx, body, block }: ExecContext<OrderCancelBody>): BlockEvent[] {
  const o = openOrder(state, body, tx, block);
  const ref = parseOrderId(body.orderId, 'tx.body.orderId');
  const m = marketOfOrder(body.orderId);
  deleteBookOrder(state, ref.side, body.orderId);
  unlock(state, tx.from, o.locked);
  const market = getMarketById(state, m)!;
  putMarket(state, ref.side === 'bid' ? { ...market, bids: market.bids - 1 } : { ...market, asks: market.asks - 1 });
  putAccountSide(state, m, tx.from, { side: ref.side, open: getAccountSide(state, m, tx.from)!.open - 1 });
  if (ref.side === 'ask') putDeviceOffer(state, m, ref.deviceId!, getDeviceOffer(state, m, ref.deviceId!) - o.volumeWh);
  return [
    {
      type: 'order-cancelled',
      attributes: [
        ['order', toHex(body.orderId)],
        ['owner', addressText(tx.from)],
        ['refunded', o.locked.toString()],
      ],
    },
  ];
}

/** Keys the tx reads besides the sender's account: all named by the order id. */
export function orderCancelKeys(body: OrderCancelBody, tx: Pick<Tx, 'from'>): Uint8Array[] {
  const ref = parseOrderId(body.orderId, 'tx.body.orderId');
  const m = marketOfOrder(body.orderId);
  const keys = [bookKey(ref.side, body.orderId), marketKey(ref.zone, ref.intervalStartMs), sideKey(m, tx.from)];
  if (ref.deviceId !== undefined) keys.push(deviceOfferKey(m, ref.deviceId));
  return keys;
}

export const orderCancelHandler: TxHandler<OrderCancelBody> = {
  type: TxType.orderCancel,
  name: 'order-cancel',
  tier: 'peer_to_peer',
  decodeBody: decodeOrderCancelBody,
  spend: () => 0n,
  keys: orderCancelKeys,
  checkState: (state, body, tx, ctx) => void openOrder(state, body, tx, ctx),
  execute,
  describe: (body) => ({ orderId: `0x${toHex(body.orderId)}` }),
};
