import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../core/errors.ts';
import { reversalUtxoId } from '../../core/reversal.ts';
import { marketId } from '../../core/state-keys.ts';
import { errorOf } from '../../core/testing/errors.ts';
import { buildEnergyRetire } from '../../core/tx/energy-retire.ts';
import { buildReversalApprove } from '../../core/tx/reversal-approve.ts';
import { buildReversalPropose } from '../../core/tx/reversal-propose.ts';
import { buildTransfer } from '../../core/tx/transfer.ts';
import type { TestValidator } from '../../consensus/testing/fixtures.ts';
import { getAccount } from '../../state/accounts.ts';
import { getUtxo } from '../../state/energy.ts';
import { getSettlement } from '../../state/markets.ts';
import { StateOverlay } from '../../state/overlay.ts';
import { getReversal, getReversalById, putGovernorSet } from '../../state/reversals.ts';
import { testMarket, ZONE } from '../testing/market.ts';
import { tradeUtxoId } from './settlement.ts';

/**
 * Governed reversal on a real market chain: one trade (1000 Wh, P = 200) settled against
 * the meter, governors = validators 0..2 with k = 2 (validator 3 is no governor).
 */

function settled(deliveredWh: bigint, threshold = 2) {
  const t = testMarket();
  const { c } = t;
  const o = new StateOverlay(c.state);
  putGovernorSet(o, { threshold, governors: c.validators.slice(0, 3).map((v) => v.validator.address) });
  c.state.apply(o.changes());
  const b = t.buyers[0]!;
  const s = t.sellers[0]!;
  c.block(t.place(b, 'bid', 1000n, 300n), t.place(s, 'ask', 1000n, 100n));
  t.toGate();
  c.block();
  if (deliveredWh > 0n) t.deliver([['pv-0', deliveredWh]]);
  t.toSettlement();
  c.block();
  const m = marketId(ZONE, t.I);
  const settlement = getSettlement(c.state, m, 0)!;
  expect(settlement).toBeDefined();
  const g = c.validators;
  return { t, c, b, s, m, settlement, g };
}

type Ctx = ReturnType<typeof settled>;

const target = (x: Ctx, seq = 0) => ({ zone: ZONE, intervalStartMs: x.t.I, seq, buyer: x.b.address, seller: x.s.address });
const propose = (x: Ctx, who: TestValidator, reason = 'meter of pv-0 found miscalibrated') =>
  buildReversalPropose({ ...x.c.sender(who), ...target(x), reason });
const approve = (x: Ctx, who: TestValidator) => buildReversalApprove({ ...x.c.sender(who), ...target(x) });

/** Everything a reversal may touch: both parties' accounts and energy, the trade's and the reversal's UTXOs. */
function snapshot(x: Ctx) {
  const { c, t, b, s, m } = x;
  return {
    buyer: getAccount(c.state, b.address),
    seller: getAccount(c.state, s.address),
    buyerWh: t.energyOf(b.address),
    sellerWh: t.energyOf(s.address),
    tradeUtxo: getUtxo(c.state, tradeUtxoId(m, 0)),
    returned: getUtxo(c.state, reversalUtxoId({ zone: ZONE, intervalStartMs: t.I, seq: 0 })),
  };
}

describe('governed reversal of a settlement', () => {
  it('k-1 approvals move nothing; the k-th moves back exactly the payment and the 1000 Wh, recorded with reason, approvers and block', () => {
    const x = settled(1000n);
    const { c, t, g } = x;
    expect(x.settlement).toMatchObject({ deliveredWh: 1000n, payment: 200n, penalty: 0n });
    const before = snapshot(x);
    const money = t.money();
    const r1 = c.block(propose(x, g[0]!));
    expect(r1.receipts[0]).toMatchObject({ success: true });
    expect(r1.receipts[0]!.events.map((e) => e.type)).toEqual(['reversal-proposed', 'reversal-approved']);
    expect(snapshot(x)).toEqual(before);
    expect(getReversal(c.state, target(x))).toMatchObject({ id: 1, approvers: [g[0]!.validator.address], executedHeight: undefined });

    const h = c.height;
    const r2 = c.block(approve(x, g[1]!));
    expect(r2.receipts[0]).toMatchObject({ success: true });
    const after = snapshot(x);
    expect(after.seller).toEqual({ ...before.seller, balance: before.seller.balance - 200n });
    expect(after.buyer).toEqual({ ...before.buyer, balance: before.buyer.balance + 200n });
    expect(after.tradeUtxo).toBeUndefined();
    expect(after.returned).toMatchObject({ wh: 1000n, frozen: false, height: h, provenance: before.tradeUtxo!.provenance });
    expect(after.returned!.owner).toEqual(x.s.address);
    expect(after.buyerWh).toBe(before.buyerWh - 1000n);
    expect(after.sellerWh).toBe(before.sellerWh + 1000n);
    expect(t.money()).toBe(money);
    const rec = getReversal(c.state, target(x))!;
    expect(rec).toMatchObject({
      id: 1,
      reason: 'meter of pv-0 found miscalibrated',
      executedHeight: h,
      approvers: [g[0]!.validator.address, g[1]!.validator.address],
    });
    expect(getReversalById(c.state, 1)!.reversal).toEqual(rec);
    const ev = r2.receipts[0]!.events.find((e) => e.type === 'settlement-reversed')!;
    expect(ev.attributes).toEqual(
      expect.arrayContaining([
        ['payment', '200'],
        ['penalty', '0'],
        ['energyWh', '1000'],
      ]),
    );
  });

  it('under-delivery: the payment (120) goes back to the buyer and the penalty (4) to the seller, with the 600 Wh', () => {
    const x = settled(600n);
    const { c, t, g } = x;
    expect(x.settlement).toMatchObject({ deliveredWh: 600n, payment: 120n, penalty: 4n });
    const before = snapshot(x);
    const money = t.money();
    c.block(propose(x, g[2]!));
    c.block(approve(x, g[0]!));
    const after = snapshot(x);
    expect(after.seller.balance).toBe(before.seller.balance - 120n + 4n);
    expect(after.buyer.balance).toBe(before.buyer.balance + 120n - 4n);
    expect(after.seller.locked).toBe(before.seller.locked);
    expect(after.buyer.locked).toBe(before.buyer.locked);
    expect(after.returned).toMatchObject({ wh: 600n });
    expect(after.buyerWh).toBe(before.buyerWh - 600n);
    expect(t.money()).toBe(money);
  });

  it('no delivery: only the penalty (10) goes back; no energy moves', () => {
    const x = settled(0n);
    const before = snapshot(x);
    x.c.block(propose(x, x.g[0]!));
    x.c.block(approve(x, x.g[1]!));
    const after = snapshot(x);
    expect(after.seller.balance).toBe(before.seller.balance + 10n);
    expect(after.buyer.balance).toBe(before.buyer.balance - 10n);
    expect(after.returned).toBeUndefined();
    expect(after.sellerWh).toBe(before.sellerWh);
  });

  it('with k = 1 the proposal executes at once', () => {
    const x = settled(1000n, 1);
    const before = snapshot(x);
    const r = x.c.block(propose(x, x.g[1]!));
    expect(r.receipts[0]!.events.map((e) => e.type)).toEqual(['reversal-proposed', 'reversal-approved', 'settlement-reversed']);
    expect(snapshot(x).seller.balance).toBe(before.seller.balance - 200n);
  });

  it('refuses a non-governor, a double approval, an approval without a proposal, an unsettled trade and wrong parties', () => {
    const x = settled(1000n);
    const { c, g } = x;
    expect(errorOf(() => c.check(propose(x, g[3]!)))).toMatchObject({ code: ErrorCode.REVERSAL_NOT_GOVERNOR, field: 'tx.sender' });
    expect(errorOf(() => c.check(buildReversalPropose({ ...c.sender(x.b), ...target(x), reason: 'mine' })))).toMatchObject({
      code: ErrorCode.REVERSAL_NOT_GOVERNOR,
    });
    expect(errorOf(() => c.check(approve(x, g[1]!)))).toMatchObject({ code: ErrorCode.REVERSAL_UNKNOWN });
    const other = buildReversalPropose({ ...c.sender(g[0]!), ...target(x, 1), reason: 'no such trade' });
    expect(errorOf(() => c.check(other))).toMatchObject({ code: ErrorCode.REVERSAL_UNKNOWN_SETTLEMENT, field: 'tx.body.seq' });
    const swapped = buildReversalPropose({ ...c.sender(g[0]!), ...target(x), buyer: x.s.address, reason: 'swapped' });
    expect(errorOf(() => c.check(swapped))).toMatchObject({ code: ErrorCode.TX_INVALID_FIELD, field: 'tx.body.buyer' });

    c.block(propose(x, g[0]!));
    expect(errorOf(() => c.check(approve(x, g[0]!)))).toMatchObject({ code: ErrorCode.REVERSAL_ALREADY_APPROVED, field: 'tx.sender' });
    expect(errorOf(() => c.check(propose(x, g[1]!)))).toMatchObject({ code: ErrorCode.REVERSAL_ALREADY_PROPOSED });
    // In a block too: nothing of it is included.
    expect(errorOf(() => c.block(approve(x, g[0]!)))).toMatchObject({ code: ErrorCode.BLOCK_INVALID });
  });

  it('a second reversal of the same settlement is refused', () => {
    const x = settled(1000n);
    const { c, g } = x;
    c.block(propose(x, g[0]!));
    c.block(approve(x, g[1]!));
    expect(errorOf(() => c.check(propose(x, g[2]!)))).toMatchObject({ code: ErrorCode.REVERSAL_ALREADY_REVERSED });
    expect(errorOf(() => c.check(approve(x, g[2]!)))).toMatchObject({ code: ErrorCode.REVERSAL_ALREADY_REVERSED });
  });

  it("fails whole when the seller's balance is below the payment: nothing moves, the proposal stays open, and succeeds once the money is back", () => {
    const x = settled(1000n);
    const { c, t, g, s } = x;
    c.block(propose(x, g[0]!));
    const seller = getAccount(c.state, s.address);
    // The seller keeps 150 after the fee: below the 200 to give back.
    c.block(buildTransfer({ ...c.sender(s), to: t.agg.address, amount: seller.balance - 25n - 150n }));
    const before = snapshot(x);
    const reversal = getReversal(c.state, target(x));
    const r = c.block(approve(x, g[1]!));
    expect(r.receipts[0]).toMatchObject({ success: false, code: ErrorCode.REVERSAL_FUNDS_GONE, events: [] });
    expect(snapshot(x)).toEqual(before);
    expect(getReversal(c.state, target(x))).toEqual(reversal);

    c.block(buildTransfer({ ...c.sender(t.agg), to: s.address, amount: 50n }));
    const again = c.block(approve(x, g[1]!));
    expect(again.receipts[0]).toMatchObject({ success: true });
    expect(getAccount(c.state, s.address).balance).toBe(0n);
    expect(getReversal(c.state, target(x))!.executedHeight).toBe(c.height - 1);
  });

  it("fails whole when the buyer's tokens were retired: the error names the UTXO and nothing moves", () => {
    const x = settled(1000n);
    const { c, g, b, m } = x;
    c.block(propose(x, g[0]!));
    c.block(buildEnergyRetire({ ...c.sender(b), inputs: [tradeUtxoId(m, 0)], wh: 400n, beneficiary: b.address, purpose: 'scope 2' }));
    const before = snapshot(x);
    const r = c.block(approve(x, g[2]!));
    expect(r.receipts[0]).toMatchObject({ success: false, code: ErrorCode.REVERSAL_ENERGY_GONE });
    expect(snapshot(x)).toEqual(before);
    expect(getReversal(c.state, target(x))!.executedHeight).toBeUndefined();
  });
});
