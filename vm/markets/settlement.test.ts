import { describe, expect, it } from 'vitest';
import { mintedUtxoId } from '../../core/energy.ts';
import { imbalanceAccount } from '../../core/market.ts';
import { marketId } from '../../core/state-keys.ts';
import { buildCheckMeterResolution } from '../../core/tx/check-meter-resolution.ts';
import { getAccount } from '../../state/accounts.ts';
import { getUtxo } from '../../state/energy.ts';
import { collateralKey, escrowKey, getHeld, getSettlement, SETTLE_HELD_PREFIX, SETTLE_QUEUE_PREFIX } from '../../state/markets.ts';
import { testMarket, ZONE, type TestMarket } from '../testing/market.ts';
import { tradeUtxoId } from './settlement.ts';

/** One bid of 1000 Wh at 300, one ask of 1000 Wh at 100 from pv-0: P = 200; escrow 300 (200 held), collateral 5. */
function traded(opts: { checkMeter?: boolean } = {}) {
  const t = testMarket({ checkMeter: opts.checkMeter });
  const { c } = t;
  const b = t.buyers[0]!;
  const s = t.sellers[0]!;
  const h = c.height;
  c.block(t.place(b, 'bid', 1000n, 300n), t.place(s, 'ask', 1000n, 100n));
  const bidId = t.idOf('bid', 300n, h, 0);
  const askId = t.idOf('ask', 100n, h, 1, 'pv-0');
  t.toGate();
  c.block();
  const start = { b: getAccount(c.state, b.address), s: getAccount(c.state, s.address), money: t.money() };
  expect(start.b.locked).toBe(200n);
  expect(start.s.locked).toBe(5n);
  return { t, c, b, s, bidId, askId, start };
}

function settle(t: TestMarket) {
  t.toSettlement();
  return t.c.block();
}

const m = (t: TestMarket) => marketId(ZONE, t.I);

describe('settlement against meters', () => {
  it('full delivery: the buyer pays floor(1000 x 200 / 1000) = 200 and gets the 1000 Wh with the minted provenance; nothing stays held', () => {
    const { t, c, b, s, bidId, askId, start } = traded();
    t.deliver([['pv-0', 1000n]]);
    const r = settle(t);
    expect(getSettlement(c.state, m(t), 0)).toMatchObject({ deliveredWh: 1000n, payment: 200n, penalty: 0n });
    const u = getUtxo(c.state, tradeUtxoId(m(t), 0))!;
    expect(u).toMatchObject({ wh: 1000n, frozen: false });
    expect(u.owner).toEqual(b.address);
    expect(u.provenance).toMatchObject({ deviceId: 'pv-0', intervalStartMs: t.I });
    expect(getUtxo(c.state, mintedUtxoId('pv-0', t.I))).toBeUndefined();
    expect(getAccount(c.state, b.address)).toMatchObject({ locked: 0n, balance: start.b.balance });
    expect(getAccount(c.state, s.address)).toMatchObject({ locked: 0n, balance: start.s.balance + 5n + 200n });
    expect(getHeld(c.state, escrowKey(bidId))).toBeUndefined();
    expect(getHeld(c.state, collateralKey(askId))).toBeUndefined();
    expect(r.events.map((e) => e.type)).toContain('trade-settled');
    expect(t.money()).toBe(start.money);
    expect([...c.state.iterate(SETTLE_QUEUE_PREFIX)]).toHaveLength(0);
  });

  it('under-delivery: 600 Wh delivered and paid (120); the penalty floor(400 x 200 x 5 %) / 1000 = 4 comes from the collateral; unused escrow back', () => {
    const { t, c, b, s, start } = traded();
    t.deliver([['pv-0', 600n]]);
    settle(t);
    expect(getSettlement(c.state, m(t), 0)).toMatchObject({ deliveredWh: 600n, payment: 120n, penalty: 4n });
    expect(t.energyOf(b.address)).toBe(600n);
    expect(getAccount(c.state, b.address)).toMatchObject({ locked: 0n, balance: start.b.balance + 200n - 120n + 4n });
    expect(getAccount(c.state, s.address)).toMatchObject({ locked: 0n, balance: start.s.balance + 5n - 4n + 120n });
    expect(t.money()).toBe(start.money);
  });

  it("over-delivery: 1500 Wh metered, 1000 delivered; 500 Wh beyond the trades cost floor(500 x 200 x 2 %) / 1000 = 2 to the zone's imbalance account", () => {
    const { t, c, b, s, start } = traded();
    t.deliver([['pv-0', 1500n]]);
    const r = settle(t);
    expect(getSettlement(c.state, m(t), 0)).toMatchObject({ deliveredWh: 1000n, payment: 200n, penalty: 0n });
    expect(getAccount(c.state, imbalanceAccount(ZONE)).balance).toBe(2n);
    expect(getAccount(c.state, s.address).balance).toBe(start.s.balance + 5n + 200n - 2n);
    expect(getUtxo(c.state, mintedUtxoId('pv-0', t.I))!.wh).toBe(500n);
    expect(t.energyOf(b.address) + t.energyOf(s.address)).toBe(1500n);
    expect(r.events.find((e) => e.type === 'over-delivery')!.attributes).toContainEqual(['overWh', '500']);
    expect(t.money()).toBe(start.money);
  });

  it('no meter data counts as zero delivery: penalty floor(1000 x 200 x 5 %) / 1000 = 10, 5 from collateral and 5 from balance; the buyer pays nothing', () => {
    const { t, c, b, s, start } = traded();
    settle(t);
    expect(getSettlement(c.state, m(t), 0)).toMatchObject({ deliveredWh: 0n, payment: 0n, penalty: 10n, utxoId: undefined });
    expect(getAccount(c.state, b.address)).toMatchObject({ locked: 0n, balance: start.b.balance + 200n + 10n });
    expect(getAccount(c.state, s.address)).toMatchObject({ locked: 0n, balance: start.s.balance - 5n });
    expect(t.money()).toBe(start.money);
  });

  it('a frozen interval (check meter disagrees) waits aside and settles in the block after a dso resolves it', () => {
    const { t, c, b, start } = traded({ checkMeter: true });
    t.deliver([
      ['pv-0', 1000n],
      ['cm-0', 700n],
    ]);
    settle(t);
    expect(getSettlement(c.state, m(t), 0)).toBeUndefined();
    expect([...c.state.iterate(SETTLE_HELD_PREFIX)]).toHaveLength(1);
    c.block();
    expect(getSettlement(c.state, m(t), 0)).toBeUndefined();
    const r = c.block(buildCheckMeterResolution({ ...c.sender(t.dso), deviceId: 'pv-0', intervalStartMs: t.I, resolution: 'check-meter' }));
    expect(r.receipts[0]!.success).toBe(true);
    // The resolution's marker is acted on from the next block (vm/markets/held-markers.test.ts).
    expect(getSettlement(c.state, m(t), 0)).toBeUndefined();
    c.block();
    expect(getSettlement(c.state, m(t), 0)).toMatchObject({ deliveredWh: 700n, payment: 140n, penalty: 3n });
    expect(t.energyOf(b.address)).toBe(700n);
    expect([...c.state.iterate(SETTLE_HELD_PREFIX)]).toHaveLength(0);
    expect(t.money()).toBe(start.money);
  });
});
