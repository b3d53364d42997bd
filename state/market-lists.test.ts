import { afterEach, describe, expect, it } from 'vitest';
import { marketKey } from '../core/state-keys.ts';
import { testMarket, ZONE } from '../vm/testing/market.ts';
import { loadAndListAccountTrades, loadAndListMarketTrades, loadAndListOrders } from './market-lists.ts';
import { settlementKey, tradeKey, marketId } from './markets.ts';
import { removeTempDirs, withStrictState } from './testing/store.ts';
import type { WorldState } from './world-state.ts';

afterEach(removeTempDirs);

/**
 * A real market (vm/testing/market.ts): three bids and two asks placed, then (in a copy of
 * the state) cleared and settled; every listing runs on a strict LevelDB state, so it reads
 * nothing but the page it loaded.
 */
const strict = (entries: Iterable<readonly [Uint8Array, Uint8Array]>, use: (ws: WorldState) => Promise<void>) => withStrictState('market-lists', entries, use);

function market() {
  const t = testMarket({ sellers: 2, buyers: 3 });
  const { c } = t;
  const [b0, b1, b2] = t.buyers;
  const [s0, s1] = t.sellers;
  const h = c.height;
  c.block(
    t.place(b0!, 'bid', 400n, 300n),
    t.place(b1!, 'bid', 500n, 350n),
    t.place(b2!, 'bid', 300n, 100n),
    t.place(s0!, 'ask', 600n, 150n),
    t.place(s1!, 'ask', 500n, 200n),
  );
  return { t, c, h, b1: b1!, s0: s0! };
}

describe('market listings on the LevelDB state, a page loaded at a time', () => {
  it('the order book: one side best first, paged with a cursor, with the market', async () => {
    const { t, c, h } = market();
    await strict(c.state.iterate(new Uint8Array(0)), async (ws) => {
      const bids: bigint[] = [];
      let after: Uint8Array | undefined;
      do {
        const p = await loadAndListOrders(await ws.load({}), { zone: ZONE, intervalStartMs: t.I, side: 'bid', limit: 2, after });
        expect(p.market).toMatchObject({ status: 'open', bids: 3, asks: 2 });
        bids.push(...p.orders.map((o) => o.order.volumeWh));
        after = p.next;
      } while (after !== undefined);
      // 350 (b1), 300 (b0), 100 (b2): price descending.
      expect(bids).toEqual([500n, 400n, 300n]);
      const asks = await loadAndListOrders(await ws.load({}), { zone: ZONE, intervalStartMs: t.I, side: 'ask', limit: 100 });
      expect(asks.orders.map((o) => o.id)).toEqual([t.idOf('ask', 150n, h, 3, 'pv-0'), t.idOf('ask', 200n, h, 4, 'pv-1')]);
      expect(asks.next).toBeUndefined();
      const none = await loadAndListOrders(await ws.load({}), { zone: 'BE', intervalStartMs: t.I, side: 'bid', limit: 100 });
      expect(none).toEqual({ market: undefined, orders: [], next: undefined });
    });
  });

  it("after clearing and settlement: the market's trades with their settlements, and an account's trades, each under the key that proves it", async () => {
    const { t, c, b1, s0 } = market();
    t.toGate();
    c.block();
    t.deliver([
      ['pv-0', 600n],
      ['pv-1', 500n],
    ]);
    t.toSettlement();
    c.block();
    const m = marketId(ZONE, t.I);
    await strict(c.state.iterate(new Uint8Array(0)), async (ws) => {
      const all = await loadAndListMarketTrades(await ws.load({}), { zone: ZONE, intervalStartMs: t.I, limit: 100 });
      // b1 (500 at 350) takes 500 of s0 (600 at 150); b0 (400 at 300) takes 100 of s0, then 300 of s1 (at 200); b2 (100) does not cross.
      expect(all.market).toMatchObject({ status: 'cleared', trades: 3, volumeWh: 900n, price: 250n });
      expect(all.trades.map((x) => [x.trade.seq, x.trade.volumeWh, x.price])).toEqual([
        [0, 500n, 250n],
        [1, 100n, 250n],
        [2, 300n, 250n],
      ]);
      expect(all.trades.map((x) => x.settlement?.deliveredWh)).toEqual([500n, 100n, 300n]);
      expect(all.trades[0]!.key).toEqual(tradeKey(m, 0));
      expect(all.trades[0]!.settlementKey).toEqual(settlementKey(m, 0));
      const book = await loadAndListOrders(await ws.load({}), { zone: ZONE, intervalStartMs: t.I, side: 'bid', limit: 100 });
      expect(book.orders).toEqual([]);

      const pages: number[][] = [];
      let after: Uint8Array | undefined;
      do {
        const p = await loadAndListAccountTrades(await ws.load({}), { account: s0.address, limit: 1, after });
        pages.push(p.trades.map((x) => x.trade.seq));
        for (const x of p.trades) expect(x.trade.seller).toEqual(s0.address);
        after = p.next;
      } while (after !== undefined);
      expect(pages).toEqual([[0], [1]]);
      const buyer = await loadAndListAccountTrades(await ws.load({}), { account: b1.address, limit: 100 });
      expect(buyer.trades).toHaveLength(1);
      expect(buyer.trades[0]).toMatchObject({ zone: ZONE, intervalStartMs: t.I, price: 250n, settlement: { deliveredWh: 500n, payment: 125n } });
      expect(ws.get(buyer.trades[0]!.indexKey!)).toBeDefined();
      expect(ws.get(marketKey(ZONE, t.I))).toBeDefined();
    });
  });
});
