/**
 * JSON shapes of markets, orders, trades and settlements (docs/json-rpc.md Markets). Pure,
 * like json-format.ts: no lookups, testable from plain values.
 */
import { formatAddress } from '../../core/keys.ts';
import type { MarketRecord, Settlement } from '../../core/market.ts';
import { parseOrderId } from '../../core/market.ts';
import type { ListedOrder, ListedTrade } from '../../core/market-query.ts';
import type { MarketJson, OrderJson, SettlementJson, TradeJson } from '../../core/market-json.ts';
import { marketKey } from '../../core/state-keys.ts';
import { hex } from './json-format.ts';

export function formatMarket(m: MarketRecord): MarketJson {
  return {
    zone: m.zone,
    intervalStartMs: m.intervalStartMs,
    status: m.status,
    bids: m.bids,
    asks: m.asks,
    trades: m.trades,
    recorded: m.recorded,
    volumeWh: m.volumeWh.toString(),
    price: m.price.toString(),
    lastBidPrice: m.lastBidPrice.toString(),
    lastAskPrice: m.lastAskPrice.toString(),
    stateKey: hex(marketKey(m.zone, m.intervalStartMs)),
  };
}

export function formatOrder(o: ListedOrder): OrderJson {
  const ref = parseOrderId(o.id, 'order.id');
  return {
    id: hex(o.id),
    side: ref.side,
    owner: formatAddress(o.order.owner),
    volumeWh: o.order.volumeWh.toString(),
    price: ref.price.toString(),
    height: ref.height,
    index: ref.index,
    deviceId: o.order.deviceId ?? null,
    locked: o.order.locked.toString(),
    stateKey: hex(o.key),
  };
}

export function formatSettlement(s: Settlement): SettlementJson {
  return {
    deliveredWh: s.deliveredWh.toString(),
    payment: s.payment.toString(),
    penalty: s.penalty.toString(),
    utxo: s.utxoId === undefined ? null : hex(s.utxoId),
    height: s.height,
  };
}

export function formatTrade(t: ListedTrade): TradeJson {
  return {
    zone: t.zone,
    intervalStartMs: t.intervalStartMs,
    seq: t.trade.seq,
    bidId: hex(t.trade.bidId),
    askId: hex(t.trade.askId),
    buyer: formatAddress(t.trade.buyer),
    seller: formatAddress(t.trade.seller),
    deviceId: t.trade.deviceId,
    volumeWh: t.trade.volumeWh.toString(),
    price: t.price.toString(),
    stateKey: hex(t.key),
    settlement: t.settlement === undefined ? null : formatSettlement(t.settlement),
    settlementKey: hex(t.settlementKey),
    ...(t.indexKey === undefined ? {} : { indexKey: hex(t.indexKey) }),
  };
}
