import { describe, expect, it } from 'vitest';
import { DISPUTE_WINDOW_MS, INSURANCE_POOL, MARGIN_CALL_MS } from '../../core/agreement.ts';
import { buildAgreementDispute } from '../../core/tx/agreement-actions.ts';
import { buildTransfer } from '../../core/tx/transfer.ts';
import { getAccount } from '../../state/accounts.ts';
import { getDispute, TIMER_PREFIX } from '../../state/agreements.ts';
import { disputeVote, slotZeroSettled, testAgreement, type TestAgreement } from '../testing/agreement.ts';

/**
 * 100 slots of 1000 Wh at 200,000 per kWh (contract value 20,000,000), collateral 10 %:
 * level 2,000,000 each. The buyer keeps 100,000 on its balance, so slot 0's payment of
 * 200,000 takes 100,000 from its collateral: 1,900,000 < the level of the 99 slots left
 * (1,980,000), a margin call due 30 minutes after that block.
 */
function marginCalled() {
  const x = testAgreement();
  const { c } = x.t;
  const id = x.ready({ slots: 100, collateralBps: 1000 });
  expect(x.get(id)).toMatchObject({ buyerCollateral: 2_000_000n, sellerCollateral: 2_000_000n });
  const spare = getAccount(c.state, x.buyer.address).balance - 100_000n - 25n;
  c.block(buildTransfer({ ...c.sender(x.buyer), to: x.t.buyers[1]!.address, amount: spare }));
  expect(getAccount(c.state, x.buyer.address).balance).toBe(100_000n);
  const money = x.money();
  x.to(x.S0);
  c.block();
  x.deliver(0, 1000n);
  const r = x.settle(0);
  const call = r.events.find((e) => e.type === 'agreement-margin-call')!;
  expect(call.attributes).toContainEqual(['level', '1980000']);
  expect(x.get(id)).toMatchObject({ buyerCollateral: 1_900_000n, sellerCallMs: 0, paid: 200_000n });
  expect(x.get(id).buyerCallMs).toBe(c.now() - c.ctx().params.blockPeriodMs + MARGIN_CALL_MS);
  return { x, c, id, money, deadline: x.get(id).buyerCallMs };
}

describe('bilateral agreements: margin calls and liquidation', () => {
  it('a top-up to the level clears the call: at the deadline nothing happens and the agreement goes on', () => {
    const { x, c, id, money, deadline } = marginCalled();
    c.block(buildTransfer({ ...c.sender(x.t.buyers[1]!), to: x.buyer.address, amount: 200_000n }));
    expect(x.collateralise(id, x.buyer, 80_000n).receipts[0]!.success).toBe(true);
    expect(x.get(id)).toMatchObject({ buyerCollateral: 1_980_000n, buyerCallMs: 0 });
    x.to(deadline);
    const r = c.block();
    expect(r.events.map((e) => e.type)).not.toContain('agreement-liquidated');
    expect(x.get(id).phase).toBe('executing');
    expect(x.money()).toBe(money);
  });

  it("a call not met by its deadline liquidates: the party's collateral to the insurance pool, the other's back, no more slots", () => {
    const { x, c, id, money, deadline } = marginCalled();
    const pool = getAccount(c.state, INSURANCE_POOL).balance;
    const seller = getAccount(c.state, x.seller.address);
    x.to(deadline);
    const r = c.block();
    // Slot 1 (due long before) settles first: no meter data, the buyer owes nothing; the seller pays 10,000 to the buyer (collateral).
    const liq = r.events.find((e) => e.type === 'agreement-liquidated')!;
    expect(liq.attributes).toContainEqual(['forfeited', '1900000']);
    expect(x.get(id)).toMatchObject({ phase: 'liquidated', buyerCollateral: 0n, sellerCollateral: 0n, nextSlot: 2 });
    expect(getAccount(c.state, INSURANCE_POOL).balance).toBe(pool + 1_900_000n);
    expect(getAccount(c.state, x.buyer.address).locked).toBe(0n);
    expect(getAccount(c.state, x.seller.address)).toMatchObject({ locked: 0n, balance: seller.balance + 2_000_000n - 10_000n });
    expect([...c.state.iterate(TIMER_PREFIX)]).toHaveLength(0);
    expect(x.money()).toBe(money);
  });
});

/** Slot 0 settled with 1000 Wh delivered; the buyer disputes 50,000 against the seller. */
function disputed(x: TestAgreement) {
  const { c } = x.t;
  const { id, money } = slotZeroSettled(x);
  const tx = buildAgreementDispute({ ...c.sender(x.buyer), id, amount: 50_000n, counterparty: x.seller.address });
  expect(c.block(tx).receipts[0]!.success).toBe(true);
  // Level of 3 slots at 15 %: 90,000; frozen from the seller's collateral; the buyer's deposit 1 % = 500.
  expect(x.get(id)).toMatchObject({ phase: 'disputed', sellerCollateral: 40_000n });
  expect(getDispute(c.state, id)).toMatchObject({ claimant: 'buyer', frozen: 50_000n, deposit: 500n, resume: 'executing' });
  const vote = (i: number, decision: 'buyer' | 'seller') => disputeVote(x, id, i, decision);
  return { c, id, money, vote };
}

describe('bilateral agreements: disputes decided by a validator majority', () => {
  it('for the claimant (buyer): the frozen 50,000 goes to it, the seller pays 1 % (500) to the insurance pool, the deposit comes back', () => {
    const x = testAgreement();
    const { c, id, money, vote } = disputed(x);
    const buyer = getAccount(c.state, x.buyer.address);
    const seller = getAccount(c.state, x.seller.address);
    const pool = getAccount(c.state, INSURANCE_POOL).balance;
    expect(x.refusal(buildAgreementDispute({ ...c.sender(x.seller), id, amount: 1n, counterparty: x.buyer.address }))).toMatchObject({
      code: 'AGREEMENT_DISPUTED',
    });
    c.block(vote(0, 'buyer'), vote(1, 'buyer'));
    expect(getDispute(c.state, id)!.decidedFor).toBeUndefined();
    expect(x.refusal(vote(0, 'seller'))).toMatchObject({ code: 'AGREEMENT_DISPUTED', field: 'tx.sender' });
    expect(x.refusal(disputeVote(x, id, x.buyer, 'buyer'))).toMatchObject({
      code: 'TX_UNAUTHORIZED',
    });
    const r = c.block(vote(2, 'buyer'));
    expect(r.receipts[0]!.events.map((e) => e.type)).toContain('agreement-dispute-decided');
    expect(getDispute(c.state, id)).toMatchObject({ decidedFor: 'buyer', fee: 500n });
    expect(getAccount(c.state, x.buyer.address)).toMatchObject({ balance: buyer.balance + 50_000n + 500n, locked: buyer.locked - 500n });
    expect(getAccount(c.state, x.seller.address)).toMatchObject({ balance: seller.balance - 500n, locked: seller.locked - 50_000n });
    expect(getAccount(c.state, INSURANCE_POOL).balance).toBe(pool + 500n);
    expect(x.get(id).phase).toBe('executing');
    expect(x.money()).toBe(money);
  });

  it('for the respondent (seller): the frozen amount goes back to it and the claimant pays the fee from its deposit', () => {
    const x = testAgreement();
    const { c, id, money, vote } = disputed(x);
    const buyer = getAccount(c.state, x.buyer.address);
    const seller = getAccount(c.state, x.seller.address);
    const pool = getAccount(c.state, INSURANCE_POOL).balance;
    c.block(vote(0, 'seller'), vote(1, 'buyer'), vote(2, 'seller'));
    expect(getDispute(c.state, id)).toBeDefined();
    c.block(vote(3, 'seller'));
    expect(getDispute(c.state, id)).toMatchObject({ decidedFor: 'seller', fee: 500n });
    expect(getAccount(c.state, x.seller.address)).toMatchObject({ balance: seller.balance + 50_000n, locked: seller.locked - 50_000n });
    expect(getAccount(c.state, x.buyer.address)).toMatchObject({ balance: buyer.balance, locked: buyer.locked - 500n });
    expect(getAccount(c.state, INSURANCE_POOL).balance).toBe(pool + 500n);
    expect(x.money()).toBe(money);
  });

  it('after settlement a dispute is open for 48 hours, frozen from the balance, and not after', () => {
    const x = testAgreement();
    const { c } = x.t;
    const { id } = slotZeroSettled(x, { slots: 1 });
    expect(x.get(id).phase).toBe('settled');
    const claim = () => buildAgreementDispute({ ...c.sender(x.seller), id, amount: 10_000n, counterparty: x.buyer.address });
    expect(x.refusal(buildAgreementDispute({ ...c.sender(x.seller), id, amount: 10_000n, counterparty: x.t.buyers[1]!.address }))).toMatchObject({
      field: 'tx.body.counterparty',
    });
    c.advance(DISPUTE_WINDOW_MS + 1000);
    expect(x.refusal(claim())).toMatchObject({ code: 'AGREEMENT_PHASE' });
    const y = testAgreement();
    const id2 = y.ready({ slots: 1 });
    y.to(y.S0);
    y.t.c.block();
    y.settle(0);
    const buyer = getAccount(y.t.c.state, y.buyer.address);
    y.t.c.block(buildAgreementDispute({ ...y.t.c.sender(y.seller), id: id2, amount: 10_000n, counterparty: y.buyer.address }));
    expect(getDispute(y.t.c.state, id2)).toMatchObject({ frozen: 10_000n, resume: 'settled' });
    expect(getAccount(y.t.c.state, y.buyer.address)).toMatchObject({ balance: buyer.balance - 10_000n, locked: buyer.locked + 10_000n });
  });
});
