import { describe, expect, it } from 'vitest';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { getAccount } from '../../state/accounts.ts';
import { collateralKey, escrowKey, getBookOrder, getHeld, getMarket, getTrade } from '../../state/markets.ts';
import { marketId } from '../../core/state-keys.ts';
import { testMarket, ZONE } from '../testing/market.ts';

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
