import { describe, expect, it } from 'vitest';
import { contractValue, DISPUTE_DECISION_MS, scheduleValue } from '../../core/agreement.ts';
import { buildAgreementDispute } from '../../core/tx/agreement-actions.ts';
import { buildValidatorVote } from '../../core/tx/validator-vote.ts';
import type { Tx } from '../../core/tx.ts';
import { ValidatorSet } from '../../core/validators.ts';
import { testValidator, type TestValidator } from '../../consensus/testing/fixtures.ts';
import { getAccount } from '../../state/accounts.ts';
import { getAgreement, getDispute } from '../../state/agreements.ts';
import { StateOverlay } from '../../state/overlay.ts';
import { getValidatorSet, putValidatorSet } from '../../state/validator-set.ts';
import type { TestKey } from '../testing/fixtures.ts';
import { disputeVote, slotZeroSettled, testAgreement, type TestAgreement } from '../testing/agreement.ts';

/**
 * Who decides a dispute and when, as an adversary would probe it: a party that is also a
 * validator, and a validator set that shrinks while the votes are cast.
 */

/** Slot 0 settled; the buyer claims 50,000 from the seller (frozen from its collateral). */
function disputed(x: TestAgreement) {
  const { c } = x.t;
  const { id, money } = slotZeroSettled(x);
  expect(c.block(buildAgreementDispute({ ...c.sender(x.buyer), id, amount: 50_000n, counterparty: x.seller.address })).receipts[0]!.success).toBe(true);
  const vote = (who: TestValidator | TestKey, decision: 'buyer' | 'seller', offset = 0): Tx => disputeVote(x, id, who, decision, offset);
  return { c, id, money, vote };
}

/** The first `keep` validators of the set plus `who` (its own identity key, a spare BLS key). */
function makeValidator(x: TestAgreement, who: TestKey, keep = 4): void {
  const { c } = x.t;
  const kept = c.validators.slice(0, keep).map((v) => v.validator);
  const o = new StateOverlay(c.state);
  const bls = testValidator(0, 'party-bls').validator.blsKey;
  putValidatorSet(o, new ValidatorSet([...kept, { name: 'party', address: who.address, identityKey: who.publicKey, blsKey: bls }]));
  c.state.apply(o.changes());
}

describe('dispute votes: a party does not judge its own dispute', () => {
  it('a party that is a validator cannot vote on its dispute', () => {
    const x = testAgreement();
    makeValidator(x, x.buyer);
    const { c, id, vote } = disputed(x);
    // Five validators, the buyer one of them: without the rule its vote plus two friends' (3 of 5) would decide.
    expect(x.refusal(vote(x.buyer, 'buyer'))).toMatchObject({ code: 'TX_UNAUTHORIZED', field: 'tx.sender' });
    expect(getDispute(c.state, id)!.votesBuyer).toHaveLength(0);
  });

  it('the majority is of the validators that are not parties: 2 of the 3 others when the buyer is the 4th', () => {
    const x = testAgreement();
    makeValidator(x, x.buyer, 3);
    const { c, id, money, vote } = disputed(x);
    const [v0, v1] = c.validators;
    c.block(vote(v0!, 'seller'));
    expect(getDispute(c.state, id)!.decidedFor).toBeUndefined();
    const r = c.block(vote(v1!, 'seller'));
    expect(r.receipts[0]!.events.map((e) => e.type)).toEqual(['agreement-vote', 'agreement-dispute-decided']);
    expect(getDispute(c.state, id)).toMatchObject({ decidedFor: 'seller' });
    expect(x.money()).toBe(money);
  });
});

describe('dispute votes: the set shrinks while the votes are cast', () => {
  /** Validators 0..2 remove validator 3 (3 of 4): the set becomes 3, its majority 2. */
  function removeV3(x: TestAgreement): void {
    const { c } = x.t;
    const v3 = c.validators[3]!;
    const removes = c.validators.slice(0, 3).map((v) => buildValidatorVote({ ...c.sender(v), action: 'remove', validator: v3.validator }));
    const r = c.block(...removes);
    expect(r.receipts.every((rc) => rc.success)).toBe(true);
    expect(getValidatorSet(c.state)!.size).toBe(3);
  }

  it('a vote for the other side decides for the side that now holds the majority', () => {
    const x = testAgreement();
    const { c, id, vote } = disputed(x);
    const [v0, v1, v2] = c.validators;
    c.block(vote(v0!, 'buyer'), vote(v1!, 'buyer'));
    removeV3(x);
    const seller = getAccount(c.state, x.seller.address);
    // The buyer holds 2 of 3: a majority. The last validator's vote, whichever side it names, ends the dispute.
    const r = c.block(vote(v2!, 'seller'));
    expect(r.receipts[0]!.events.map((e) => e.type)).toContain('agreement-dispute-decided');
    expect(getDispute(c.state, id)).toMatchObject({ decidedFor: 'buyer' });
    expect(getAccount(c.state, x.seller.address).locked).toBe(seller.locked - 50_000n);
  });

  it('when every validator left has voted, one of the majority sends its vote again and that decides; nothing counts twice', () => {
    const x = testAgreement();
    const { c, id, money, vote } = disputed(x);
    const [v0, v1, v2] = c.validators;
    // 2 for the buyer, 1 for the seller, validator 3 abstains: undecided (3 of 4 needed).
    c.block(vote(v0!, 'buyer'), vote(v1!, 'buyer'), vote(v2!, 'seller'));
    expect(getDispute(c.state, id)!.decidedFor).toBeUndefined();
    removeV3(x);
    // Without a way to decide, the 50,000 frozen and the 500 deposit would stay locked for ever.
    expect(x.refusal(vote(v2!, 'seller'))).toMatchObject({ code: 'AGREEMENT_DISPUTED', field: 'tx.sender' });
    expect(x.refusal(vote(v0!, 'seller'))).toMatchObject({ code: 'AGREEMENT_DISPUTED', field: 'tx.sender' });
    const r = c.block(vote(v0!, 'buyer'));
    expect(r.receipts[0]!.events.map((e) => e.type)).toEqual(['agreement-vote', 'agreement-dispute-decided']);
    expect(getDispute(c.state, id)).toMatchObject({ decidedFor: 'buyer' });
    expect(getDispute(c.state, id)!.votesBuyer).toHaveLength(2);
    expect(x.money()).toBe(money);
    expect(x.refusal(vote(v1!, 'buyer'))).toMatchObject({ code: 'AGREEMENT_PHASE' });
  });

  it('a repeat vote is refused while no side holds a majority (it would only cost a fee)', () => {
    const x = testAgreement();
    const { c, vote } = disputed(x);
    c.block(vote(c.validators[0]!, 'buyer'));
    expect(x.refusal(vote(c.validators[0]!, 'buyer'))).toMatchObject({ code: 'AGREEMENT_DISPUTED', field: 'tx.sender' });
  });
});

describe('dispute votes: a dispute no majority decides', () => {
  it('ends DISPUTE_DECISION_MS after it opened: the frozen amount and the whole deposit go back, no fee, no more votes', () => {
    const x = testAgreement();
    const { c } = x.t;
    const { id, money } = slotZeroSettled(x, { slots: 1 });
    const buyer = getAccount(c.state, x.buyer.address);
    const seller = getAccount(c.state, x.seller.address);
    c.block(buildAgreementDispute({ ...c.sender(x.seller), id, amount: 10_000n, counterparty: x.buyer.address }));
    expect(getDispute(c.state, id)).toMatchObject({ frozen: 10_000n, deposit: 100n });
    const vote = (i: number, decision: 'buyer' | 'seller') => disputeVote(x, id, i, decision);
    // 2-2 of 4: nobody can vote any more, and nothing else would ever release the 10,000 and the 100.
    c.block(vote(0, 'buyer'), vote(1, 'buyer'), vote(2, 'seller'), vote(3, 'seller'));
    expect(getDispute(c.state, id)!.decidedFor).toBeUndefined();
    c.advance(DISPUTE_DECISION_MS - 3 * c.ctx().params.blockPeriodMs); // the next block is one period before the deadline
    c.block();
    expect(getDispute(c.state, id)!.decidedFor).toBeUndefined();
    c.advance(c.ctx().params.blockPeriodMs);
    const r = c.block();
    expect(r.events.map((e) => e.type)).toEqual(['agreement-dispute-expired']);
    expect(getDispute(c.state, id)).toMatchObject({ decidedFor: 'buyer', fee: 0n });
    expect(x.get(id).phase).toBe('settled');
    expect(getAccount(c.state, x.buyer.address)).toMatchObject({ balance: buyer.balance, locked: buyer.locked });
    expect(getAccount(c.state, x.seller.address)).toMatchObject({ balance: seller.balance - 25n, locked: seller.locked });
    expect(x.money()).toBe(money);
    expect(x.refusal(vote(0, 'buyer'))).toMatchObject({ code: 'AGREEMENT_PHASE' });
  });

  it('a dispute decided before its deadline is left as decided when the deadline comes', () => {
    const x = testAgreement();
    const { c } = x.t;
    const { id } = slotZeroSettled(x, { slots: 1, deliveredWh: null });
    c.block(buildAgreementDispute({ ...c.sender(x.seller), id, amount: 10_000n, counterparty: x.buyer.address }));
    const vote = (i: number) => disputeVote(x, id, i, 'seller');
    c.block(vote(0), vote(1), vote(2));
    const decided = getDispute(c.state, id);
    const money = x.money();
    const accounts = [getAccount(c.state, x.buyer.address), getAccount(c.state, x.seller.address)];
    c.advance(DISPUTE_DECISION_MS);
    expect(c.block().events).toEqual([]);
    expect(getDispute(c.state, id)).toEqual(decided);
    expect([getAccount(c.state, x.buyer.address), getAccount(c.state, x.seller.address)]).toEqual(accounts);
    expect(x.money()).toBe(money);
  });
});

describe('dispute claims: at most the agreement is worth', () => {
  it('a claim above the contract value is refused at tx.body.amount; the value itself is accepted and freezes only what it covers', () => {
    const x = testAgreement();
    const { c } = x.t;
    const id = x.ready({ slots: 3 });
    x.to(x.S0);
    c.block();
    const a = getAgreement(c.state, id)!;
    const value = contractValue(scheduleValue(a, 0, c.ctx().params.settlementIntervalMs));
    const claim = (amount: bigint) => buildAgreementDispute({ ...c.sender(x.buyer), id, amount, counterparty: x.seller.address });
    // Without the bound a claim of the seller's whole balance froze all of it for a deposit of 1 % of that.
    expect(x.refusal(claim(value + 1n))).toMatchObject({ code: 'TX_INVALID_FIELD', field: 'tx.body.amount' });
    const everything = getAccount(c.state, x.seller.address).balance;
    expect(everything).toBeGreaterThan(value);
    expect(x.refusal(claim(everything))).toMatchObject({ code: 'TX_INVALID_FIELD', field: 'tx.body.amount' });
    const seller = getAccount(c.state, x.seller.address);
    expect(c.block(claim(value)).receipts[0]!.success).toBe(true);
    const d = getDispute(c.state, id)!;
    expect(d.frozen).toBeLessThanOrEqual(value);
    expect(getAccount(c.state, x.seller.address).balance).toBeGreaterThanOrEqual(seller.balance - value);
  });
});
