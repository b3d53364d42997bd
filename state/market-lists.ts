import { compareBytes, concatBytes, utf8Text } from '../core/bytes.ts';
import { decodeBookOrder, decodeMarket, decodeSettlement, decodeTrade, marketInterval, type MarketRecord } from '../core/market.ts';
import type { AccountTradesQuery, ListedTrade, MarketTradesQuery, OrderBookPage, OrderBookQuery, TradePage } from '../core/market-query.ts';
import type { LoadableReader, PrefixReader } from './energy-lists.ts';
import { accountTradesPrefix, marketBookPrefix, marketId, marketKey, settlementKey, tradeKey, tradesPrefix } from './markets.ts';

/**
 * Bounded pages of the double auction's records for RPC: a market's open orders of one side
 * (best first), its trades (in trade order), an account's trades (by interval, zone, seq),
 * each loaded before it is listed (a page reads the cursor's entry, `limit` entries and one
 * more, then the records they name), so a LoadedState in strict mode proves the listing
 * reads only what it loaded. A cursor is the last listed key after its group's prefix.
 */

interface Entry {
  readonly key: Uint8Array;
  readonly suffix: Uint8Array;
}

function fromKey(prefix: Uint8Array, after: Uint8Array | undefined): Uint8Array | undefined {
  return after === undefined ? undefined : concatBytes(prefix, after);
}

function loadRange(view: LoadableReader, prefix: Uint8Array, limit: number, after: Uint8Array | undefined, keys: Uint8Array[] = []): Promise<void> {
  const from = fromKey(prefix, after);
  return view.load({ keys, ranges: [from === undefined ? { prefix, limit: limit + 2 } : { prefix, from, limit: limit + 2 }] });
}

function page(state: PrefixReader, prefix: Uint8Array, limit: number, after: Uint8Array | undefined): { entries: Entry[]; more: boolean } {
  const entries: Entry[] = [];
  for (const [key] of state.iterate(prefix, fromKey(prefix, after))) {
    const suffix = key.subarray(prefix.length);
    if (after !== undefined && compareBytes(suffix, after) <= 0) continue;
    if (entries.length === limit) return { entries, more: true };
    entries.push({ key, suffix });
  }
  return { entries, more: false };
}

const nextOf = (p: { entries: Entry[]; more: boolean }) => (p.more ? p.entries[p.entries.length - 1]!.suffix : undefined);

function marketAt(state: PrefixReader, zone: string, intervalStartMs: number): MarketRecord | undefined {
  const raw = state.get(marketKey(zone, intervalStartMs));
  return raw === undefined ? undefined : decodeMarket(raw);
}

/** A market's open orders of one side, best first (empty once the market has cleared). */
export async function loadAndListOrders(view: LoadableReader, q: OrderBookQuery): Promise<OrderBookPage> {
  const m = marketId(q.zone, q.intervalStartMs);
  const prefix = marketBookPrefix(q.side, m);
  await loadRange(view, prefix, q.limit, q.after, [marketKey(q.zone, q.intervalStartMs)]);
  const p = page(view, prefix, q.limit, q.after);
  const orders = p.entries.map((e) => ({ id: concatBytes(m, e.suffix), order: decodeBookOrder(view.get(e.key)!), key: e.key }));
  return { market: marketAt(view, q.zone, q.intervalStartMs), orders, next: nextOf(p) };
}

function listed(state: PrefixReader, m: Uint8Array, seq: number, market: MarketRecord, indexKey: Uint8Array | undefined): ListedTrade {
  const key = tradeKey(m, seq);
  const raw = state.get(key);
  // An index entry without its trade is corrupt state: say so rather than skip it.
  if (raw === undefined) throw new Error(`state/market-lists: no trade ${seq} in its market (${Buffer.from(key).toString('hex')})`);
  const sk = settlementKey(m, seq);
  const s = state.get(sk);
  return {
    zone: market.zone,
    intervalStartMs: market.intervalStartMs,
    price: market.price,
    trade: decodeTrade(raw),
    key,
    settlement: s === undefined ? undefined : decodeSettlement(s),
    settlementKey: sk,
    indexKey,
  };
}

const seqOf = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset + b.length - 4, 4).getUint32(0);

/** A market's trades in trade order, each with its settlement once settled. */
export async function loadAndListMarketTrades(view: LoadableReader, q: MarketTradesQuery): Promise<TradePage & { market: MarketRecord | undefined }> {
  const m = marketId(q.zone, q.intervalStartMs);
  const prefix = tradesPrefix(m);
  await loadRange(view, prefix, q.limit, q.after, [marketKey(q.zone, q.intervalStartMs)]);
  const market = marketAt(view, q.zone, q.intervalStartMs);
  const p = page(view, prefix, q.limit, q.after);
  await view.load({ keys: p.entries.map((e) => settlementKey(m, seqOf(e.suffix))) });
  return { market, trades: market === undefined ? [] : p.entries.map((e) => listed(view, m, seqOf(e.suffix), market, undefined)), next: nextOf(p) };
}

/** The market id M at the start of an account index suffix (M ++ u32be(seq)). */
function marketOfSuffix(suffix: Uint8Array): { m: Uint8Array; zone: string; intervalStartMs: number } {
  const m = suffix.subarray(0, suffix.length - 4);
  return { m, zone: utf8Text(m.subarray(9)), intervalStartMs: marketInterval(m) };
}

/** An account's trades as buyer or seller, by (interval, zone, seq), with their markets' prices and settlements. */
export async function loadAndListAccountTrades(view: LoadableReader, q: AccountTradesQuery): Promise<TradePage> {
  const prefix = accountTradesPrefix(q.account);
  await loadRange(view, prefix, q.limit, q.after);
  const p = page(view, prefix, q.limit, q.after);
  const keys = p.entries.flatMap((e) => {
    const { m, zone, intervalStartMs } = marketOfSuffix(e.suffix);
    const seq = seqOf(e.suffix);
    return [marketKey(zone, intervalStartMs), tradeKey(m, seq), settlementKey(m, seq)];
  });
  await view.load({ keys });
  const trades = p.entries.map((e) => {
    const { m, zone, intervalStartMs } = marketOfSuffix(e.suffix);
    const market = marketAt(view, zone, intervalStartMs);
    if (market === undefined) throw new Error(`state/market-lists: a trade index entry without its market (${Buffer.from(e.key).toString('hex')})`);
    return listed(view, m, seqOf(e.suffix), market, e.key);
  });
  return { trades, next: nextOf(p) };
}
