import type { BlockEvent } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { askCollateral, bidEscrow, emptyMarket, orderId } from '../../core/market.ts';
import { decodeOrderPlaceBody, describeOrderPlace, type OrderPlaceBody } from '../../core/tx/order-place.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { deviceKey } from '../../state/devices.ts';
import {
  deviceOfferKey,
  getAccountSide,
  getDeviceOffer,
  getMarketById,
  marketId,
  marketKey,
  putAccountSide,
  putBookOrder,
  putDeviceOffer,
  putMarket,
  sideKey,
} from '../../state/markets.ts';
import type { StateReader } from '../../state/overlay.ts';
import { addressText, readAccount, writeAccount } from '../accounts.ts';
import { requireDevice } from '../devices/rules.ts';
import type { ChainContext, ExecContext, TxHandler } from '../types.ts';
import { intervalExportLimitWh, requireOpenMarket } from './rules.ts';

/**
 * Type 32, order-place: a bid escrows ceil(volume x price / 1000) of the settlement
 * currency, an ask posts ceil(volume x price x askCollateralBps / 10^7) as collateral;
 * both move from the sender's balance to its locked funds until the market clears (or the
 * order is cancelled). Rules: the market's gate is still open; the price at most the cap;
 * the interval aligned to settlementIntervalMs; one side per account per market; an ask's
 * device is owned by the seller, active, in the market's zone, and its export limit over
 * the interval covers the volume of all its open asks in the market; a bid's device, if
 * named, is owned by the buyer and in the zone.
 */

function validate(body: OrderPlaceBody, _tx: Tx, ctx: ChainContext): void {
  if (body.price > ctx.params.priceCap)
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `${body.price} is above the chain's price cap of ${ctx.params.priceCap} per kWh`, 'tx.body.price');
  if (body.intervalStartMs % ctx.params.settlementIntervalMs !== 0)
    throw new JouleError(
      ErrorCode.TX_INVALID_FIELD,
      `must be a multiple of the settlement interval (${ctx.params.settlementIntervalMs} ms)`,
      'tx.body.intervalStartMs',
    );
}

/** What the order locks: escrow (bid) or collateral (ask). */
export function orderLock(body: OrderPlaceBody, askCollateralBps: number): bigint {
  return body.side === 'bid' ? bidEscrow(body.volumeWh, body.price) : askCollateral(body.volumeWh, body.price, askCollateralBps);
}

function checkState(state: StateReader, body: OrderPlaceBody, tx: Tx, ctx: ChainContext): void {
  const m = marketId(body.zone, body.intervalStartMs);
  requireOpenMarket(state, m, body.intervalStartMs, ctx.params, ctx.timestamp, 'tx.body.intervalStartMs');
  const side = getAccountSide(state, m, tx.from);
  if (side !== undefined && side.side !== body.side)
    throw new JouleError(ErrorCode.MARKET_SIDE_TAKEN, `${addressText(tx.from)} holds ${side.open} open ${side.side}(s) in this market`, 'tx.body.side');
  if (body.deviceId !== undefined) {
    const d = requireDevice(state, body.deviceId, 'tx.body.deviceId');
    if (!equalBytes(d.owner, tx.from))
      throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `device ${JSON.stringify(d.id)} is not owned by the sender`, 'tx.body.deviceId');
    if (d.zone !== body.zone)
      throw new JouleError(ErrorCode.TX_INVALID_FIELD, `device ${JSON.stringify(d.id)} is in zone ${JSON.stringify(d.zone)}`, 'tx.body.deviceId');
    if (body.side === 'ask') {
      if (d.status !== 'active') throw new JouleError(ErrorCode.DEVICE_INACTIVE, `device ${JSON.stringify(d.id)} is ${d.status}`, 'tx.body.deviceId');
      const limit = intervalExportLimitWh(d.maxExportW, ctx.params.settlementIntervalMs);
      const offered = getDeviceOffer(state, m, d.id);
      if (offered + body.volumeWh > limit)
        throw new JouleError(
          ErrorCode.MARKET_DEVICE_LIMIT,
          `${body.volumeWh} Wh with the ${offered} Wh the device already offers exceeds its export limit over the interval (${limit} Wh)`,
          'tx.body.volumeWh',
        );
    }
  }
  if (body.side === 'ask') {
    // A bid's escrow is checked as spend(); an ask's collateral depends on a chain parameter.
    const need = tx.fee + orderLock(body, ctx.params.askCollateralBps);
    const balance = readAccount(state, tx.from).balance;
    if (balance < need)
      throw new JouleError(ErrorCode.TX_INSUFFICIENT_BALANCE, `balance ${balance} does not cover fee and collateral ${need}`, 'tx.body.volumeWh');
  }
}

function execute({ state, tx, body, block, index }: ExecContext<OrderPlaceBody>): BlockEvent[] {
  checkState(state, body, tx, block);
  const m = marketId(body.zone, body.intervalStartMs);
  const id = orderId({ ...body, height: block.height, index });
  const locked = orderLock(body, block.params.askCollateralBps);
  const account = readAccount(state, tx.from);
  writeAccount(state, tx.from, { ...account, balance: account.balance - locked, locked: account.locked + locked });
  putBookOrder(state, body.side, id, { owner: tx.from, volumeWh: body.volumeWh, deviceId: body.deviceId, locked });
  const market = getMarketById(state, m) ?? emptyMarket(body.zone, body.intervalStartMs);
  putMarket(state, body.side === 'bid' ? { ...market, bids: market.bids + 1 } : { ...market, asks: market.asks + 1 });
  putAccountSide(state, m, tx.from, { side: body.side, open: (getAccountSide(state, m, tx.from)?.open ?? 0) + 1 });
  if (body.side === 'ask') putDeviceOffer(state, m, body.deviceId!, getDeviceOffer(state, m, body.deviceId!) + body.volumeWh);
  return [
    {
      type: 'order-placed',
      attributes: [
        ['order', toHex(id)],
        ['owner', addressText(tx.from)],
        ['side', body.side],
        ['zone', body.zone],
        ['intervalStartMs', String(body.intervalStartMs)],
        ['volumeWh', body.volumeWh.toString()],
        ['price', body.price.toString()],
        ['locked', locked.toString()],
      ],
    },
  ];
}

/** Keys the tx reads besides the sender's account. */
export function orderPlaceKeys(body: OrderPlaceBody, tx: Pick<Tx, 'from'>): Uint8Array[] {
  const m = marketId(body.zone, body.intervalStartMs);
  const keys = [marketKey(body.zone, body.intervalStartMs), sideKey(m, tx.from)];
  if (body.deviceId !== undefined) keys.push(deviceKey(body.deviceId), deviceOfferKey(m, body.deviceId));
  return keys;
}

export const orderPlaceHandler: TxHandler<OrderPlaceBody> = {
  type: TxType.orderPlace,
  name: 'order-place',
  tier: 'peer_to_peer',
  decodeBody: decodeOrderPlaceBody,
  validate,
  spend: (body) => (body.side === 'bid' ? bidEscrow(body.volumeWh, body.price) : 0n),
  spendField: 'tx.body.volumeWh',
  keys: orderPlaceKeys,
  checkState,
  execute,
  describe: describeOrderPlace,
};
