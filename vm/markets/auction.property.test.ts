import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getAccount } from '../../state/accounts.ts';
import { StateOverlay } from '../../state/overlay.ts';
import { getMarket } from '../../state/markets.ts';
import { testMarket, ZONE } from '../testing/market.ts';
import { clearAuction, sortAsks, sortBids, type AuctionOrder } from './auction.ts';
import { CLEARING_UNITS, clearDueMarkets } from './clearing.ts';
import { workBudget } from '../end-block.ts';

const orderArb = fc.record({ price: fc.bigInt({ min: 1n, max: 50n }), volumeWh: fc.bigInt({ min: 1n, max: 1000n }) });
const booksArb = fc.record({ bids: fc.array(orderArb, { maxLength: 30 }), asks: fc.array(orderArb, { maxLength: 30 }) });

function toOrders(bs: { price: bigint; volumeWh: bigint }[], side: string, offset = 0): AuctionOrder[] {
  return bs.map((b, i) => ({ id: `${side}${i}`, ...b, height: 1, index: offset + i }));
}

describe('auction properties', () => {
  it('no trade outside [last matched ask, last matched bid]: every matched bid >= P >= every matched ask', () => {
    fc.assert(
      fc.property(booksArb, ({ bids, asks }) => {
        const b = toOrders(bids, 'b');
        const a = toOrders(asks, 'a', b.length);
        const r = clearAuction(b, a);
        if (r.trades.length === 0) return;
        expect(r.price >= r.lastAskPrice && r.price <= r.lastBidPrice).toBe(true);
        const price = new Map([...b, ...a].map((o) => [o.id, o.price]));
        for (const t of r.trades) expect(price.get(t.bid)! >= r.price && price.get(t.ask)! <= r.price).toBe(true);
      }),
    );
  });

  it('traded volume equals the most any uniform price could clear: max over p of min(demand at p, supply at p)', () => {
    fc.assert(
      fc.property(booksArb, ({ bids, asks }) => {
        const b = toOrders(bids, 'b');
        const a = toOrders(asks, 'a', b.length);
        let best = 0n;
        for (const p of [...b, ...a].map((o) => o.price)) {
          const demand = b.filter((o) => o.price >= p).reduce((s, o) => s + o.volumeWh, 0n);
          const supply = a.filter((o) => o.price <= p).reduce((s, o) => s + o.volumeWh, 0n);
          const q = demand < supply ? demand : supply;
          if (q > best) best = q;
        }
        expect(clearAuction(b, a).volumeWh).toBe(best);
      }),
    );
  });

  it('the same orders in another arrival order give the same price, volume and fills per price level', () => {
    fc.assert(
      fc.property(booksArb, fc.infiniteStream(fc.nat()), ({ bids, asks }, seeds) => {
        const b = toOrders(bids, 'b');
        const a = toOrders(asks, 'a', b.length);
        // Shuffle the arrival: new (height, index) per order.
        const all = [...b, ...a].map((o) => ({ o, k: seeds.next().value as number }));
        all.sort((x, y) => x.k - y.k);
        const again = new Map(all.map(({ o }, i) => [o.id, { ...o, index: i }]));
        const r1 = clearAuction(b, a);
        const r2 = clearAuction(
          b.map((o) => again.get(o.id)!),
          a.map((o) => again.get(o.id)!),
        );
        expect([r2.price, r2.volumeWh]).toEqual([r1.price, r1.volumeWh]);
        const levels = (r: typeof r1) => {
          const m = new Map<string, bigint>();
          const price = new Map([...b, ...a].map((o) => [o.id, o.price]));
          for (const t of r.trades) {
            for (const k of [`b${price.get(t.bid)}`, `a${price.get(t.ask)}`]) m.set(k, (m.get(k) ?? 0n) + t.volumeWh);
          }
          return [...m.entries()].sort();
        };
        expect(levels(r2)).toEqual(levels(r1));
        expect(sortBids(b).map((o) => o.price)).toEqual(sortBids([...again.values()].filter((o) => o.id.startsWith('b'))).map((o) => o.price));
        expect(sortAsks(a).map((o) => o.price)).toEqual(sortAsks([...again.values()].filter((o) => o.id.startsWith('a'))).map((o) => o.price));
      }),
    );
  });
});

describe('clearing and settlement on chain', () => {
  it('money and energy are conserved across clearing and settlement, and the hook resumed a trade or two a call matches the rule', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ price: fc.bigInt({ min: 1n, max: 400n }), volumeWh: fc.bigInt({ min: 1n, max: 2000n }) }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.record({ price: fc.bigInt({ min: 1n, max: 400n }), volumeWh: fc.bigInt({ min: 1n, max: 2000n }) }), { minLength: 1, maxLength: 3 }),
        fc.array(fc.bigInt({ min: 0n, max: 3000n }), { minLength: 3, maxLength: 3 }),
        // One trade's units up to two trades' and one refund's: blocks that end with units left that no effect fits.
        fc.integer({ min: CLEARING_UNITS.trade, max: 2 * CLEARING_UNITS.trade + CLEARING_UNITS.refund }),
        (bids, asks, delivered, units) => {
          const t = testMarket({ sellers: 3, buyers: 4 });
          const { c } = t;
          c.block(
            ...bids.map((o, i) => t.place(t.buyers[i]!, 'bid', o.volumeWh, o.price)),
            ...asks.map((o, i) => t.place(t.sellers[i]!, 'ask', o.volumeWh, o.price)),
          );
          const money = t.money();
          t.toGate();
          // The hook run by itself with `units` a call on an overlay, compared with the block's full run below.
          const o = new StateOverlay(c.state);
          for (let n = 0; n < 1000 && getMarket(o, ZONE, t.I)!.status !== 'cleared'; n++) clearDueMarkets(o, c.ctx(), workBudget(units));
          c.block();
          const expected = clearAuction(
            bids.map((b, i) => ({ id: `b${i}`, ...b, height: 1, index: i })),
            asks.map((a, i) => ({ id: `a${i}`, ...a, height: 1, index: bids.length + i })),
          );
          const mk = getMarket(c.state, ZONE, t.I)!;
          expect([mk.price, mk.volumeWh, mk.trades]).toEqual([expected.price, expected.volumeWh, expected.trades.length]);
          expect(getMarket(o, ZONE, t.I)).toEqual(mk);
          expect(t.money()).toBe(money);
          t.deliver(delivered.map((wh, i) => [`pv-${i}`, wh] as [string, bigint]).filter(([, wh]) => wh > 0n));
          t.toSettlement();
          c.block();
          expect(t.money()).toBe(money);
          const minted = delivered.reduce((s, x) => s + x, 0n);
          const held = [...t.buyers, ...t.sellers].reduce((s, k) => s + t.energyOf(k.address), 0n);
          expect(held).toBe(minted);
          for (const k of [...t.buyers, ...t.sellers]) expect(getAccount(c.state, k.address).locked).toBe(0n);
        },
      ),
      { numRuns: 25 },
    );
  });
});
