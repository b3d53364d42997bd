import { describe, expect, it } from 'vitest';
import { MAX_PRICE_CAP } from '../../core/params.ts';
import { marketId } from '../../core/state-keys.ts';
import { DEVNET_PARAMS } from '../../core/params.ts';
import { MAX_POWER_W } from '../../core/device.ts';
import { getMarket, getTrade } from '../../state/markets.ts';
import { testMarket, ZONE } from '../testing/market.ts';
import { clearAuction, type AuctionOrder } from './auction.ts';
import vectors from './vectors/auction.json' with { type: 'json' };

const o = (id: string, price: bigint, volumeWh: bigint, index: number, height = 1): AuctionOrder => ({ id, price, volumeWh, height, index });

describe('the double auction rule', () => {
  it('ties: equal prices trade in (height, index) order, whatever order they are listed in', () => {
    const bids = [o('late', 200n, 50n, 0, 2), o('early', 200n, 50n, 5, 1), o('mid', 200n, 50n, 1, 2)];
    const r = clearAuction(bids, [o('a', 100n, 120n, 9)]);
    expect(r.trades.map((t) => [t.bid, t.volumeWh])).toEqual([
      ['early', 50n],
      ['late', 50n],
      ['mid', 20n],
    ]);
  });

  it('partial fills: the marginal order trades what is left and P is the midpoint of the last matched pair', () => {
    const r = clearAuction([o('b0', 300n, 100n, 0), o('b1', 200n, 100n, 1)], [o('a0', 100n, 150n, 2), o('a1', 250n, 100n, 3)]);
    expect(r).toMatchObject({ price: 150n, volumeWh: 150n, lastBidPrice: 200n, lastAskPrice: 100n });
    expect(r.trades.map((t) => t.volumeWh)).toEqual([100n, 50n]);
  });

  it('no crossing (best bid < best ask) and one side empty: no trade, price 0', () => {
    expect(clearAuction([o('b', 99n, 10n, 0)], [o('a', 100n, 10n, 1)])).toMatchObject({ trades: [], price: 0n, volumeWh: 0n });
    expect(clearAuction([o('b', 99n, 10n, 0)], [])).toMatchObject({ trades: [], price: 0n });
    expect(clearAuction([], [o('a', 1n, 10n, 0)])).toMatchObject({ trades: [], price: 0n });
  });

  it('large volumes and prices stay exact (bigint): 10^15 Wh at prices near 2^63', () => {
    const big = 10n ** 15n;
    const r = clearAuction([o('b', MAX_PRICE_CAP, big, 0)], [o('a', MAX_PRICE_CAP - 1n, big - 1n, 1)]);
    expect(r.volumeWh).toBe(big - 1n);
    expect(r.price).toBe((2n * MAX_PRICE_CAP - 1n) / 2n);
    expect(r.price * r.volumeWh).toBe(((2n * MAX_PRICE_CAP - 1n) / 2n) * (big - 1n));
  });
});

interface Vector {
  name: string;
  bids: [string, string][];
  asks: [string, string][];
  expected: { price: string; volumeWh: string; trades: [number, number, string][] };
}

/** Day-long intervals: a 10 GW device covers 2.4e11 Wh, so the large vector fits a device's export limit. */
const DAY_INTERVALS = { ...DEVNET_PARAMS, settlementIntervalMs: 86_400_000 };

const all = (vectors as unknown as { vectors: Vector[] }).vectors;

function books(v: Vector) {
  const bids = v.bids.map(([p, q], i) => o(`${i}`, BigInt(p), BigInt(q), i));
  const asks = v.asks.map(([p, q], i) => o(`${i}`, BigInt(p), BigInt(q), v.bids.length + i));
  return { bids, asks };
}

describe('vectors (vm/markets/vectors/auction.json)', () => {
  it.each(all.map((v) => [v.name, v] as const))('%s: the rule gives the expected trades and price', (_, v) => {
    const { bids, asks } = books(v);
    const r = clearAuction(bids, asks);
    expect(r.price.toString()).toBe(v.expected.price);
    expect(r.volumeWh.toString()).toBe(v.expected.volumeWh);
    expect(r.trades.map((t) => [Number(t.bid), Number(t.ask), t.volumeWh.toString()])).toEqual(v.expected.trades);
  });

  it.each(all.map((v) => [v.name, v] as const))('%s: the clearing hook on chain records the same trades and price', (_, v) => {
    const t = testMarket({ sellers: Math.max(1, v.asks.length), buyers: Math.max(1, v.bids.length), maxExportW: MAX_POWER_W, params: DAY_INTERVALS });
    const { c } = t;
    for (const k of [...t.buyers, ...t.sellers]) c.state.setAccount(k.address, { balance: 10n ** 19n });
    const h = c.height;
    c.block(
      ...v.bids.map(([p, q], i) => t.place(t.buyers[i]!, 'bid', BigInt(q), BigInt(p))),
      ...v.asks.map(([p, q], i) => t.place(t.sellers[i]!, 'ask', BigInt(q), BigInt(p))),
    );
    t.toGate();
    c.block();
    const mk = getMarket(c.state, ZONE, t.I)!;
    expect(mk).toMatchObject({ status: 'cleared', price: BigInt(v.expected.price), volumeWh: BigInt(v.expected.volumeWh), trades: v.expected.trades.length });
    const bidIds = v.bids.map(([p], i) => t.idOf('bid', BigInt(p), h, i));
    const askIds = v.asks.map(([p], i) => t.idOf('ask', BigInt(p), h, v.bids.length + i, `pv-${i}`));
    const trades = v.expected.trades.map((_, seq) => getTrade(c.state, marketId(ZONE, t.I), seq)!);
    expect(
      trades.map((tr) => [
        bidIds.findIndex((id) => Buffer.from(id).equals(tr.bidId)),
        askIds.findIndex((id) => Buffer.from(id).equals(tr.askId)),
        tr.volumeWh.toString(),
      ]),
    ).toEqual(v.expected.trades);
  });
});
