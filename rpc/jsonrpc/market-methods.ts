/**
 * JSON-RPC methods of the double auction: joule_getMarket (a market's counts before gate
 * closure, its clearing result after), joule_getOrderBook (its open orders of one side,
 * best first), joule_getMarketTrades (its trades, each with its settlement) and
 * joule_getAccountTrades (an account's trades as buyer or seller). Bounded pages with a
 * cursor; every record comes with its state key, which joule_getProof proves. Orders are
 * placed and cancelled as signed txs (types 32, 33) through joule_sendRawTransaction. They
 * read optional NodeApi members; a node without one answers UNAVAILABLE (-32000).
 */
import { isZone } from '../../core/device.ts';
import type { MarketTradesJson, OrderBookJson, TradeListJson } from '../../core/market-json.ts';
import { MAX_MARKET_PAGE } from '../../core/market-query.ts';
import { hex } from './json-format.ts';
import type { MethodHandler } from './jsonrpc.ts';
import { formatMarket, formatOrder, formatTrade } from './market-format.ts';
import { arity, invalid, need, pageParams, parseAddressParam, parseHeightParam, queryObject, typeName } from './params.ts';
import type { NodeApi } from '../node-api.ts';

/** A cursor is an index key's tail: at most an order id's (side, price, height, index, device) or an account entry's (market, seq). */
const MAX_CURSOR_BYTES = 128;

function zoneParam(v: unknown, field: string): string {
  if (!isZone(v)) throw invalid(field, 'must be a zone (1-32 of letters, digits, ".", "_", ":", "-")');
  return v;
}

function intervalParam(v: unknown, field: string): number {
  try {
    return parseHeightParam(v, field);
  } catch {
    throw invalid(field, `must be the interval's start, a non-negative integer (ms since the Unix epoch), got ${typeName(v)}`);
  }
}

function marketParams(o: Record<string, unknown>): { zone: string; intervalStartMs: number } {
  return { zone: zoneParam(o.zone, 'params[0].zone'), intervalStartMs: intervalParam(o.intervalStartMs, 'params[0].intervalStartMs') };
}

const next = (n: Uint8Array | undefined) => (n === undefined ? null : hex(n));

export function addMarketMethods(m: Map<string, MethodHandler>, api: NodeApi): void {
  m.set('joule_getMarket', async (p) => {
    arity(p, 2, 2);
    const get = need(api.getMarket, 'markets').bind(api);
    const market = await get(zoneParam(p[0], 'params[0]'), intervalParam(p[1], 'params[1]'));
    return market === undefined ? null : formatMarket(market);
  });

  m.set('joule_getOrderBook', async (p): Promise<OrderBookJson> => {
    arity(p, 1, 1);
    const list = need(api.listOrders, 'order books').bind(api);
    const o = queryObject(p[0], '{zone, intervalStartMs, side, limit?, cursor?}', ['zone', 'intervalStartMs', 'side', 'limit', 'cursor']);
    const market = marketParams(o);
    if (o.side !== 'bid' && o.side !== 'ask') throw invalid('params[0].side', `must be "bid" or "ask", got ${typeName(o.side)}`);
    const side = o.side;
    const page = await list({ ...market, side, ...pageParams(o, MAX_MARKET_PAGE, MAX_CURSOR_BYTES) });
    return { market: page.market === undefined ? null : formatMarket(page.market), side, orders: page.orders.map(formatOrder), nextCursor: next(page.next) };
  });

  m.set('joule_getMarketTrades', async (p): Promise<MarketTradesJson> => {
    arity(p, 1, 1);
    const list = need(api.listMarketTrades, 'market trades').bind(api);
    const o = queryObject(p[0], '{zone, intervalStartMs, limit?, cursor?}', ['zone', 'intervalStartMs', 'limit', 'cursor']);
    const page = await list({ ...marketParams(o), ...pageParams(o, MAX_MARKET_PAGE, MAX_CURSOR_BYTES) });
    return { market: page.market === undefined ? null : formatMarket(page.market), trades: page.trades.map(formatTrade), nextCursor: next(page.next) };
  });

  m.set('joule_getAccountTrades', async (p): Promise<TradeListJson> => {
    arity(p, 1, 1);
    const list = need(api.listAccountTrades, 'account trades').bind(api);
    const o = queryObject(p[0], '{account, limit?, cursor?}', ['account', 'limit', 'cursor']);
    const page = await list({ account: parseAddressParam(o.account, 'params[0].account'), ...pageParams(o, MAX_MARKET_PAGE, MAX_CURSOR_BYTES) });
    return { trades: page.trades.map(formatTrade), nextCursor: next(page.next) };
  });
}
