import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { DEVNET_PARAMS } from '../../core/params.ts';
import { getAccount } from '../../state/accounts.ts';
import { collateralKey, escrowKey, getBookOrder, getHeld, getMarket, getTrade } from '../../state/markets.ts';
import { StateOverlay } from '../../state/overlay.ts';
import { marketId } from '../../core/state-keys.ts';
import { workBudget } from '../end-block.ts';
import { writeBooks } from '../testing/book.ts';
import { MemoryState } from '../testing/fixtures.ts';
import { testMarket, ZONE } from '../testing/market.ts';
import type { BlockContext } from '../types.ts';
import { clearAuction } from './auction.ts';
import { CLEARING_UNITS, CLEARING_WORK_PER_BLOCK, clearDueMarkets } from './clearing.ts';
import { PRICING_STEPS_PER_UNIT } from './pricing.ts';

function rejection(f: () => unknown): { code: string; field: string | undefined } {
  try {
    f();
  } catch (e) {
    if (e instanceof JouleError) return { code: e.code, field: e.field };
    throw e;
  }
  throw new Error('was not rejected');
}

describe('order-place and order-cancel', () => {
  it("locks a bid's escrow ceil(volume x price / 1000) and an ask's collateral, and a cancel refunds them in full", () => {
    const t = testMarket();
    const { c } = t;
    const b0 = t.buyers[0]!;
    const s0 = t.sellers[0]!;
    const before = getAccount(c.state, b0.address).balance;
    const h = c.height;
    const r = c.block(t.place(b0, 'bid', 1001n, 250_000n), t.place(s0, 'ask', 1000n, 200_001n));
    expect(r.receipts.map((x) => x.success)).toEqual([true, true]);
    // ceil(1001 x 250000 / 1000) = 250250; ceil(1000 x 200001 x 500 / 10^7) = 10001 (10000.05 rounded up)
    expect(getAccount(c.state, b0.address)).toMatchObject({ balance: before - 25n - 250_250n, locked: 250_250n });
    expect(getAccount(c.state, s0.address).locked).toBe(10_001n);
    const bid = t.idOf('bid', 250_000n, h, 0);
    expect(getBookOrder(c.state, 'bid', bid)).toMatchObject({ volumeWh: 1001n, locked: 250_250n });
    expect(getMarket(c.state, ZONE, t.I)).toMatchObject({ status: 'open', bids: 1, asks: 1 });
    c.block(t.cancel(b0, bid));
    expect(getAccount(c.state, b0.address)).toMatchObject({ balance: before - 50n, locked: 0n });
    expect(getBookOrder(c.state, 'bid', bid)).toBeUndefined();
    expect(getMarket(c.state, ZONE, t.I)).toMatchObject({ bids: 0, asks: 1 });
  });

  it("rejects a price above the cap, a second side, an ask beyond the device's export limit, a foreign device, and orders past gate closure", () => {
    const t = testMarket({ maxExportW: 1200 });
    const { c } = t;
    const [b0] = t.buyers;
    const [s0, s1] = t.sellers;
    const cap = c.ctx().params.priceCap;
    expect(rejection(() => c.check(t.place(b0!, 'bid', 1n, cap + 1n)))).toEqual({ code: ErrorCode.TX_INVALID_FIELD, field: 'tx.body.price' });
    // 1200 W over a 30 s interval: 10 Wh.
    c.block(t.place(s0!, 'ask', 6n, 100n));
    expect(rejection(() => c.check(t.place(s0!, 'ask', 5n, 100n)))).toEqual({ code: ErrorCode.MARKET_DEVICE_LIMIT, field: 'tx.body.volumeWh' });
    expect(rejection(() => c.check(t.place(s0!, 'bid', 5n, 100n)))).toEqual({ code: ErrorCode.MARKET_SIDE_TAKEN, field: 'tx.body.side' });
    expect(rejection(() => c.check(t.place(s1!, 'ask', 5n, 100n, { device: 'pv-0' })))).toEqual({ code: ErrorCode.TX_UNAUTHORIZED, field: 'tx.body.deviceId' });
    t.toGate();
    expect(rejection(() => c.check(t.place(b0!, 'bid', 5n, 100n)))).toEqual({ code: ErrorCode.MARKET_CLOSED, field: 'tx.body.intervalStartMs' });
  });
});

describe('clearing', () => {
  it('clears in the first block at gate closure: uniform price, partial fill, escrow released above ceil(traded x P / 1000), the rest refunded', () => {
    const t = testMarket();
    const { c } = t;
    const [b0, b1] = t.buyers;
    const [s0, s1] = t.sellers;
    const h = c.height;
    c.block(t.place(b0!, 'bid', 100n, 300n), t.place(b1!, 'bid', 100n, 200n), t.place(s0!, 'ask', 150n, 100n), t.place(s1!, 'ask', 100n, 250n));
    const money = t.money();
    c.block();
    expect(getMarket(c.state, ZONE, t.I)!.status).toBe('open');
    t.toGate();
    const r = c.block();
    // bid 300 x ask 100: 100 Wh; bid 200 x ask 100: 50 Wh; bid 200 < ask 250: stop. P = floor((200 + 100) / 2) = 150.
    expect(getMarket(c.state, ZONE, t.I)).toMatchObject({ status: 'cleared', price: 150n, volumeWh: 150n, trades: 2, lastBidPrice: 200n, lastAskPrice: 100n });
    const m = marketId(ZONE, t.I);
    expect(getTrade(c.state, m, 0)).toMatchObject({ volumeWh: 100n, deviceId: 'pv-0' });
    expect(getTrade(c.state, m, 1)).toMatchObject({ volumeWh: 50n });
    expect(r.events.filter((e) => e.type === 'trade')).toHaveLength(2);
    expect(r.events.find((e) => e.type === 'market-cleared')!.attributes).toContainEqual(['price', '150']);
    // b1: escrow ceil(100 x 200 / 1000) = 20; traded 50 Wh at 150: ceil(7.5) = 8 held, 12 released.
    expect(getHeld(c.state, escrowKey(t.idOf('bid', 200n, h, 1)))).toMatchObject({ amount: 8n, open: 1 });
    expect(getAccount(c.state, b1!.address).locked).toBe(8n);
    // s1's ask did not trade: its collateral is back.
    expect(getAccount(c.state, s1!.address).locked).toBe(0n);
    expect(getHeld(c.state, collateralKey(t.idOf('ask', 100n, h, 2, 'pv-0')))).toMatchObject({ open: 2 });
    expect(t.money()).toBe(money);
  });
});

describe('clearing across blocks', () => {
  const params = DEVNET_PARAMS;
  const I = 1_800_000_000_000 - (1_800_000_000_000 % params.settlementIntervalMs);
  const ctx = (height: number): BlockContext => ({ chainId: 'resume', params, height, timestamp: I - params.gateClosureLeadMs, proposer: new Uint8Array(20) });
  const bookState = (books: Parameters<typeof writeBooks>[2]): MemoryState => {
    const state = new MemoryState();
    const o = new StateOverlay(state);
    writeBooks(o, I, books);
    state.apply(o.changes());
    return state;
  };
  const dump = (s: MemoryState) => [...s.iterate(new Uint8Array(0))].map(([k, v]) => `${toHex(k)}=${toHex(v)}`);
  const order = fc.record({
    side: fc.constantFrom<'bid' | 'ask'>('bid', 'ask'),
    price: fc.bigInt({ min: 1n, max: 60n }),
    volumeWh: fc.bigInt({ min: 1n, max: 40n }),
  });

  it('priced and matched a few units a block, a book leaves exactly the state and events of one unbounded block, the result of the rule', () => {
    fc.assert(
      // A block of one trade's units up to two trades' (so some blocks end with units left that no trade fits).
      fc.property(
        fc.array(order, { minLength: 0, maxLength: 160 }),
        fc.integer({ min: CLEARING_UNITS.trade, max: 2 * CLEARING_UNITS.trade }),
        (specs, units) => {
          // Bids dearer on the whole, and 280 pairs that cross whatever else is in the book (best
          // bids, best asks, 1 Wh each): at least 280 trades, more steps than the walk of the
          // largest budget (8 units, 256 steps), so the pricing walk is always cut and resumed.
          const spine = Array.from({ length: 280 }, (_, i) => ({
            side: i % 2 === 0 ? ('bid' as const) : ('ask' as const),
            price: i % 2 === 0 ? 100n : 1n,
            volumeWh: 1n,
          }));
          const orders = [...spine, ...spine, ...specs.map((x) => (x.side === 'bid' ? { ...x, price: x.price + 20n } : x))];
          const one = bookState([['Z', orders]]);
          const o = new StateOverlay(one);
          const oneEvents = clearDueMarkets(o, ctx(10), workBudget(Number.MAX_SAFE_INTEGER));
          one.apply(o.changes());

          const many = bookState([['Z', orders]]);
          const manyEvents = [];
          const statuses: string[] = [];
          for (let h = 10; getMarket(many, 'Z', I)!.status !== 'cleared'; h++) {
            const b = new StateOverlay(many);
            manyEvents.push(...clearDueMarkets(b, ctx(h), workBudget(units)));
            many.apply(b.changes());
            statuses.push(getMarket(many, 'Z', I)!.status);
            expect(h).toBeLessThan(10 + 2 * orders.length);
          }
          expect(dump(many)).toEqual(dump(one));
          expect(manyEvents).toEqual(oneEvents);

          const rule = clearAuction(
            orders.flatMap((x, i) => (x.side === 'bid' ? [{ id: `${i}`, price: x.price, volumeWh: x.volumeWh, height: 1, index: i }] : [])),
            orders.flatMap((x, i) => (x.side === 'ask' ? [{ id: `${i}`, price: x.price, volumeWh: x.volumeWh, height: 1, index: i }] : [])),
          );
          const mk = getMarket(many, 'Z', I)!;
          expect([mk.price, mk.volumeWh, mk.trades, mk.recorded]).toEqual([rule.price, rule.volumeWh, rule.trades.length, rule.trades.length]);
          // The price is known (and announced) before any trade is written, in as many blocks as the pricing walk's units take.
          const pricingBlocks = Math.max(1, Math.ceil(rule.trades.length / (PRICING_STEPS_PER_UNIT * units)));
          expect(statuses.slice(0, pricingBlocks - 1).every((s) => s === 'pricing')).toBe(true);
          expect(statuses[pricingBlocks - 1]).not.toBe('pricing');
          const types = manyEvents.map((e) => e.type);
          expect(types.filter((t) => t === 'market-priced')).toHaveLength(1);
          if (rule.trades.length > 0) expect(types.indexOf('market-priced')).toBeLessThan(types.indexOf('trade'));
          expect(pricingBlocks).toBeGreaterThan(1);
        },
      ),
      // Each run is a few hundred blocks: shrinking a failure would take minutes.
      { numRuns: 8, endOnFailure: true },
    );
  });

  it('several markets, a few units a block: the state and each kind of event of one unbounded block; no trade written while a market is unpriced', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(order, { minLength: 0, maxLength: 60 }), { minLength: 2, maxLength: 4 }),
        fc.integer({ min: CLEARING_UNITS.trade, max: 40 }),
        (books, units) => {
          const zones = books.map((_, z) => `Z${z}`);
          const build = () => bookState(books.map((orders, z) => [zones[z]!, orders]));
          const one = build();
          const o = new StateOverlay(one);
          const oneEvents = clearDueMarkets(o, ctx(10), workBudget(Number.MAX_SAFE_INTEGER));
          one.apply(o.changes());

          const many = build();
          const manyEvents = [];
          // A market without orders has no book entry: the hook never reaches it, and it stays open.
          const busy = zones.filter((_, z) => books[z]!.length > 0);
          for (let h = 10; busy.some((z) => getMarket(many, z, I)!.status !== 'cleared'); h++) {
            const b = new StateOverlay(many);
            const events = clearDueMarkets(b, ctx(h), workBudget(units));
            many.apply(b.changes());
            const types = events.map((e) => e.type);
            // The pricing pass comes first; a block that wrote a trade left no market unpriced.
            if (types.includes('trade')) {
              expect(types.lastIndexOf('market-priced')).toBeLessThan(types.indexOf('trade'));
              expect(busy.filter((z) => ['open', 'pricing'].includes(getMarket(many, z, I)!.status))).toEqual([]);
            }
            manyEvents.push(...events);
            expect(h).toBeLessThan(10_000);
          }
          expect(dump(many)).toEqual(dump(one));
          for (const type of ['market-priced', 'trade', 'market-cleared']) {
            expect(manyEvents.filter((e) => e.type === type)).toEqual(oneEvents.filter((e) => e.type === type));
          }
          books.forEach((orders, z) => {
            const side = (s: 'bid' | 'ask') =>
              orders.flatMap((x, i) => (x.side === s ? [{ id: `${i}`, price: x.price, volumeWh: x.volumeWh, height: 1, index: i }] : []));
            const rule = clearAuction(side('bid'), side('ask'));
            if (orders.length > 0)
              expect(getMarket(many, zones[z]!, I)).toMatchObject({
                status: 'cleared',
                price: rule.price,
                volumeWh: rule.volumeWh,
                trades: rule.trades.length,
              });
          });
        },
      ),
      { numRuns: 25, endOnFailure: true },
    );
  });

  it("a block's clearing writes about two state records a unit, at most three, whatever the book: each is a tree path every validator hashes before it votes", () => {
    // Orders of one size cross one to one, so every trade also finishes its bid and its ask
    // (the most a trade writes); then a book with nothing that crosses, all refunds.
    const crossing = Array.from({ length: 4_000 }, (_, i) => ({
      side: i % 2 === 0 ? ('bid' as const) : ('ask' as const),
      price: i % 2 === 0 ? 50n : 10n,
      volumeWh: 5n,
    }));
    const apart = Array.from({ length: 4_000 }, (_, i) => ({
      side: i % 2 === 0 ? ('bid' as const) : ('ask' as const),
      price: i % 2 === 0 ? 10n : 50n,
      volumeWh: 5n,
    }));
    for (const orders of [crossing, apart]) {
      const state = bookState([['Z', orders]]);
      let most = 0;
      for (let h = 10; getMarket(state, 'Z', I)!.status !== 'cleared'; h++) {
        const b = new StateOverlay(state);
        clearDueMarkets(b, ctx(h), workBudget(CLEARING_WORK_PER_BLOCK));
        const changes = b.changes();
        most = Math.max(most, changes.length);
        state.apply(changes);
        expect(h).toBeLessThan(40);
      }
      expect(most).toBeGreaterThan(CLEARING_WORK_PER_BLOCK); // the budget was spent on writes
      expect(most).toBeLessThanOrEqual(3 * CLEARING_WORK_PER_BLOCK);
    }
  });

  it('prices every due market it can before writing the effects of the first: a busy market keeps none after it waiting for its price', () => {
    // Zone A: 600 crossing pairs (600 trades, CLEARING_UNITS.trade units of effects each); zone B after it: 3 orders.
    const busy = Array.from({ length: 1200 }, (_, i) => ({
      side: i % 2 === 0 ? ('bid' as const) : ('ask' as const),
      price: i % 2 === 0 ? 50n : 10n,
      volumeWh: 5n,
    }));
    const state = bookState([
      ['A', busy],
      [
        'B',
        [
          { side: 'bid', price: 40n, volumeWh: 7n },
          { side: 'ask', price: 20n, volumeWh: 3n },
          { side: 'ask', price: 30n, volumeWh: 9n },
        ],
      ],
    ]);
    const b = new StateOverlay(state);
    // 100 units: both priced (600 and 2 steps: a unit per PRICING_STEPS_PER_UNIT steps begun), then as many of A's trades as the rest pays for.
    const written = Math.floor((100 - Math.ceil(600 / PRICING_STEPS_PER_UNIT) - 1) / CLEARING_UNITS.trade);
    const events = clearDueMarkets(b, ctx(10), workBudget(100));
    state.apply(b.changes());
    expect(events.filter((e) => e.type === 'market-priced').map((e) => e.attributes[0])).toEqual([
      ['zone', 'A'],
      ['zone', 'B'],
    ]);
    expect(getMarket(state, 'A', I)).toMatchObject({ status: 'matching', trades: 600, recorded: written, price: 30n });
    // B: bid 40 x ask 20: 3 Wh; bid 40 x ask 30: 4 Wh; P = floor((40 + 30) / 2) = 35.
    expect(getMarket(state, 'B', I)).toMatchObject({ status: 'matching', trades: 2, volumeWh: 7n, price: 35n, recorded: 0 });
    expect(events.filter((e) => e.type === 'trade')).toHaveLength(written);
  });
});
