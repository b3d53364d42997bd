import { describe, expect, it } from 'vitest';
import { agreementUtxoId, COOLING_OFF_MS, hourOfDay, type PriceFormula } from '../../core/agreement.ts';
import { imbalanceAccount } from '../../core/market.ts';
import { getAccount } from '../../state/accounts.ts';
import { deviceAgreementsPrefix, getSlotSettlement, TIMER_PREFIX } from '../../state/agreements.ts';
import { getUtxo } from '../../state/energy.ts';
import { testAgreement } from '../testing/agreement.ts';
import { ZONE } from '../testing/market.ts';

describe('bilateral agreements: phases', () => {
  it('proposed -> signed -> cooling-off -> collateralised -> executing -> settled, paying each slot against the meter', () => {
    const x = testAgreement();
    const { c } = x.t;
    const money = x.money();
    const id = x.propose();
    expect(x.get(id)).toMatchObject({ phase: 'proposed', remainingValue: 400_000_000n });
    // The proposer cannot sign its own proposal.
    expect(x.refusal(x.signTx(id, x.seller))).toMatchObject({ code: 'AGREEMENT_NOT_PARTY' });
    expect(x.sign(id).receipts[0]!.success).toBe(true);
    expect(x.get(id).phase).toBe('signed');
    // No collateral during the cooling-off.
    expect(x.refusal(x.collateraliseTx(id, x.buyer, 60_000n))).toMatchObject({ code: 'AGREEMENT_PHASE', field: 'tx.body.id' });
    c.advance(COOLING_OFF_MS);
    // Level: ceil(400,000,000 x 1500 / 10^7) = 60,000 = 15 % of the contract value 400,000.
    expect(x.collateralise(id, x.buyer, 60_000n).receipts[0]!.success).toBe(true);
    expect(x.get(id).phase).toBe('signed');
    expect(x.collateralise(id, x.seller, 60_000n).receipts[0]!.success).toBe(true);
    expect(x.get(id)).toMatchObject({ phase: 'collateralised', buyerCollateral: 60_000n, sellerCollateral: 60_000n });
    // Withdrawal is over once the cooling-off ended.
    expect(x.refusal(x.withdrawTx(id, x.buyer))).toMatchObject({ code: 'AGREEMENT_PHASE' });
    const b0 = getAccount(c.state, x.buyer.address);
    const s0 = getAccount(c.state, x.seller.address);
    expect(b0.locked).toBe(60_000n);

    x.to(x.S0);
    expect(c.block().events.map((e) => e.type)).toContain('agreement-executing');
    expect(x.get(id).phase).toBe('executing');

    x.deliver(0, 1000n);
    x.settle(0);
    // Full delivery: floor(1000 x 200,000 / 1000) = 200,000 from the buyer's balance.
    expect(getSlotSettlement(c.state, id, 0)).toMatchObject({ deliveredWh: 1000n, payment: 200_000n, penalty: 0n, overCharge: 0n, price: 200_000n });
    expect(getUtxo(c.state, agreementUtxoId(id, 0))).toMatchObject({ wh: 1000n });
    expect(x.get(id)).toMatchObject({ nextSlot: 1, remainingValue: 200_000_000n, buyerCallMs: 0, sellerCallMs: 0 });

    x.deliver(1, 600n);
    const r = x.settle(1);
    // Under-delivery: 600 Wh paid (120,000); penalty floor(400 x 200,000 x 500 / 10^7) = 4,000 from the seller's collateral.
    expect(getSlotSettlement(c.state, id, 1)).toMatchObject({ deliveredWh: 600n, payment: 120_000n, penalty: 4_000n });
    expect(r.events.map((e) => e.type)).toContain('agreement-settled');
    expect(x.get(id)).toMatchObject({ phase: 'settled', buyerCollateral: 0n, sellerCollateral: 0n, deliveredWh: 1600n, paid: 320_000n });
    expect(x.get(id).settledAtMs).toBe(c.now() - c.ctx().params.blockPeriodMs);
    expect(getAccount(c.state, x.buyer.address)).toMatchObject({ locked: 0n, balance: b0.balance + 60_000n - 320_000n + 4_000n });
    expect(getAccount(c.state, x.seller.address)).toMatchObject({ locked: 0n, balance: s0.balance + 60_000n + 320_000n - 4_000n });
    expect(x.t.energyOf(x.buyer.address)).toBe(1600n);
    expect(x.money()).toBe(money);
    expect([...c.state.iterate(TIMER_PREFIX)]).toHaveLength(0);
  });

  it('either party withdraws during the cooling-off; nothing was posted, nothing moves, and the agreement never starts', () => {
    const x = testAgreement();
    const { c } = x.t;
    const id = x.propose();
    x.sign(id);
    c.advance(COOLING_OFF_MS - 2 * c.ctx().params.blockPeriodMs);
    const r = x.withdraw(id, x.seller);
    expect(r.receipts[0]!.success).toBe(true);
    expect(x.get(id).phase).toBe('withdrawn');
    c.advance(COOLING_OFF_MS);
    expect(x.refusal(x.collateraliseTx(id, x.buyer, 60_000n))).toMatchObject({ code: 'AGREEMENT_PHASE' });
    x.to(x.S0);
    c.block();
    expect(x.get(id).phase).toBe('withdrawn');
    expect([...c.state.iterate(TIMER_PREFIX)]).toHaveLength(0);
  });

  it('the counterparty may decline a proposal; an outsider may not touch it', () => {
    const x = testAgreement();
    const id = x.propose();
    expect(x.refusal(x.withdrawTx(id, x.t.buyers[1]!))).toMatchObject({ code: 'AGREEMENT_NOT_PARTY', field: 'tx.sender' });
    expect(x.withdraw(id, x.buyer).receipts[0]!.success).toBe(true);
    expect(x.get(id).phase).toBe('withdrawn');
  });

  it('an agreement not collateralised by its first slot lapses and its posted collateral goes back', () => {
    const x = testAgreement();
    const { c } = x.t;
    const id = x.propose();
    x.sign(id);
    c.advance(COOLING_OFF_MS);
    const before = getAccount(c.state, x.buyer.address);
    x.collateralise(id, x.buyer, 60_000n);
    x.to(x.S0);
    expect(c.block().events.map((e) => e.type)).toContain('agreement-lapsed');
    expect(x.get(id)).toMatchObject({ phase: 'lapsed', buyerCollateral: 0n });
    expect(getAccount(c.state, x.buyer.address)).toMatchObject({ locked: 0n, balance: before.balance - 25n });
  });

  it('rejects proposals with a device the seller does not own, a past first slot, or prices above the cap', () => {
    const x = testAgreement();
    const { c } = x.t;
    expect(() => c.check(x.proposeTx({ deviceId: 'pv-1' }))).toThrow(expect.objectContaining({ code: 'TX_UNAUTHORIZED', field: 'tx.body.deviceId' }));
    expect(() => c.check(x.proposeTx({ firstSlotMs: x.t.I - 4 * x.interval }))).toThrow(expect.objectContaining({ field: 'tx.body.firstSlotMs' }));
    expect(() => c.check(x.proposeTx({ firstSlotMs: x.S0 + 1 }))).toThrow(expect.objectContaining({ code: 'TX_INVALID_FIELD', field: 'tx.body.firstSlotMs' }));
    expect(() => c.check(x.proposeTx({ price: { kind: 'fixed', price: c.ctx().params.priceCap + 1n } }))).toThrow(
      expect.objectContaining({ code: 'TX_INVALID_FIELD', field: 'tx.body.price' }),
    );
  });
});

describe('bilateral agreements: prices and deviations', () => {
  it('time-of-use: each slot is priced by the table entry of its start hour (UTC)', () => {
    const x = testAgreement();
    const { c } = x.t;
    const table = Array.from({ length: 24 }, (_, h) => BigInt(100_000 + h * 1000));
    const price: PriceFormula = { kind: 'time-of-use', table };
    const id = x.ready({ price, slots: 1 });
    const expected = table[hourOfDay(x.S0)]!;
    expect(x.get(id).phase).toBe('collateralised');
    x.to(x.S0);
    c.block();
    x.deliver(0, 1000n);
    x.settle(0);
    expect(getSlotSettlement(c.state, id, 0)).toMatchObject({ price: expected, payment: expected });
    expect(x.get(id).phase).toBe('settled');
  });

  it('market formula: the zone market clearing price plus the premium where the market cleared with trades, the fallback otherwise', () => {
    const x = testAgreement();
    const { t } = x;
    const { c } = t;
    const price: PriceFormula = { kind: 'market', premium: 7_000n, fallback: 150_000n };
    const id = x.ready({ price, slots: 2 });
    // A market for slot 1's interval: b1 bids 300,000, s1 asks 100,000 (pv-1): P = 200,000.
    const I1 = x.slot(1);
    c.block(t.place(t.buyers[1]!, 'bid', 500n, 300_000n, { I: I1 }), t.place(t.sellers[1]!, 'ask', 500n, 100_000n, { I: I1, device: 'pv-1' }));
    x.to(x.S0);
    c.block();
    x.deliver(0, 1000n);
    x.settle(0);
    expect(getSlotSettlement(c.state, id, 0)).toMatchObject({ price: 150_000n, payment: 150_000n });
    x.deliver(1, 1000n);
    x.settle(1);
    expect(getSlotSettlement(c.state, id, 1)).toMatchObject({ price: 207_000n, payment: 207_000n });
  });

  it('over-delivery: 2 % of the price per kWh beyond the quantity, from the seller to the zone imbalance account; no meter data is zero delivery', () => {
    const x = testAgreement();
    const { c } = x.t;
    const id = x.ready();
    const money = x.money();
    const im = getAccount(c.state, imbalanceAccount(ZONE)).balance;
    x.to(x.S0);
    c.block();
    x.deliver(0, 1500n);
    x.settle(0);
    // floor(500 x 200,000 x 200 / 10^7) = 2,000.
    expect(getSlotSettlement(c.state, id, 0)).toMatchObject({ meteredWh: 1500n, deliveredWh: 1000n, overCharge: 2_000n });
    expect(getAccount(c.state, imbalanceAccount(ZONE)).balance).toBe(im + 2_000n);
    x.settle(1);
    // Nothing metered: penalty floor(1000 x 200,000 x 500 / 10^7) = 10,000 to the buyer, nothing paid.
    expect(getSlotSettlement(c.state, id, 1)).toMatchObject({ meteredWh: 0n, deliveredWh: 0n, payment: 0n, penalty: 10_000n });
    expect(x.money()).toBe(money);
  });

  it('a device selling in the market and under an agreement in one interval: the trades take the token first, and its over-delivery is charged once, shared by volume', () => {
    const run = (exportWh: bigint) => {
      const x = testAgreement();
      const { t } = x;
      const { c } = t;
      const id = x.ready();
      const money = x.money();
      const im = getAccount(c.state, imbalanceAccount(ZONE)).balance;
      // Slot 0's interval also has a market where s0 sells 600 Wh of pv-0 to b1: P = 200,000.
      c.block(t.place(x.seller, 'ask', 600n, 100_000n, { I: x.S0, device: 'pv-0' }), t.place(t.buyers[1]!, 'bid', 600n, 300_000n, { I: x.S0 }));
      x.to(x.S0);
      c.block();
      x.deliver(0, exportWh);
      const r = x.settle(0);
      const marketOver = r.events.filter((e) => e.type === 'over-delivery').map((e) => Object.fromEntries(e.attributes));
      return {
        x,
        t,
        id,
        slot: getSlotSettlement(c.state, id, 0)!,
        marketOver,
        imbalance: getAccount(c.state, imbalanceAccount(ZONE)).balance - im,
        conserved: x.money() === money,
      };
    };
    // 2,000 metered against 600 traded + 1,000 agreed: 400 Wh over, charged once at 2 % of 200,000 a kWh = 1,600:
    // the trades' share floor(400 x 600 / 1,600) = 150 Wh (600), the slot's 250 Wh (1,000).
    const over = run(2000n);
    expect(over.marketOver).toEqual([expect.objectContaining({ device: 'pv-0', overWh: '150', charged: '600' })]);
    expect(over.slot).toMatchObject({ meteredWh: 2000n, deliveredWh: 1000n, overCharge: 1_000n, penalty: 0n });
    expect(over.imbalance).toBe(1_600n);
    expect(over.t.energyOf(over.t.buyers[1]!.address)).toBe(600n);
    expect(over.t.energyOf(over.x.buyer.address)).toBe(1000n);
    expect(over.conserved).toBe(true);
    // 1,200 metered: the trade takes its 600 first, the slot gets the other 600 (400 short), nobody over-delivered.
    const short = run(1200n);
    expect(short.marketOver).toEqual([]);
    expect(short.slot).toMatchObject({ meteredWh: 1200n, deliveredWh: 600n, overCharge: 0n, penalty: (400n * 200_000n * 500n) / 10_000_000n });
    expect(short.imbalance).toBe(0n);
    expect(short.t.energyOf(short.t.buyers[1]!.address)).toBe(600n);
    expect(short.conserved).toBe(true);
  });

  it('a device delivers at most 16 agreements at once: the 17th to start lapses, its collateral back', () => {
    const x = testAgreement();
    const { c } = x.t;
    const first = x.slot(40);
    const ids = Array.from({ length: 17 }, () => x.ready({ firstSlotMs: first, slots: 1, quantityWh: 100n }));
    const money = x.money();
    x.to(first);
    const r = c.block();
    const phases = ids.map((id) => x.get(id).phase);
    expect(phases.filter((p) => p === 'executing')).toHaveLength(16);
    const lapsed = ids.filter((id) => x.get(id).phase === 'lapsed');
    expect(lapsed).toHaveLength(1);
    expect(r.events.find((e) => e.type === 'agreement-lapsed')?.attributes).toContainEqual(['reason', 'device-busy']);
    expect(x.get(lapsed[0]!)).toMatchObject({ buyerCollateral: 0n, sellerCollateral: 0n });
    expect(x.money()).toBe(money);
    expect([...c.state.iterate(deviceAgreementsPrefix('pv-0'))]).toHaveLength(16);
    // Once they have settled, the device is free again: none of them is listed any more.
    x.deliver(40, 1600n);
    x.settle(40);
    expect(ids.filter((id) => x.get(id).phase === 'settled')).toHaveLength(16);
    expect([...c.state.iterate(deviceAgreementsPrefix('pv-0'))]).toHaveLength(0);
  });
});
