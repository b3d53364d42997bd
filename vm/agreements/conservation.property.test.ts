import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agreementUtxoId, collateralLevel, COOLING_OFF_MS, decodeAgreement, decodeDispute, type PartyRole, type PriceFormula } from '../../core/agreement.ts';
import { toHex } from '../../core/bytes.ts';
import { decodeEnergyUtxo } from '../../core/energy.ts';
import { isJouleError } from '../../core/errors.ts';
import { AgreementBucket, agreementBucketKey } from '../../core/state-keys.ts';
import {
  buildAgreementCollateralise,
  buildAgreementDispute,
  buildAgreementSign,
  buildAgreementVote,
  buildAgreementWithdraw,
} from '../../core/tx/agreement-actions.ts';
import { buildAgreementPropose } from '../../core/tx/agreement-propose.ts';
import type { Tx } from '../../core/tx.ts';
import { getAccount } from '../../state/accounts.ts';
import { getAgreement, getSlotSettlement } from '../../state/agreements.ts';
import { UTXO_RECORDS_PREFIX } from '../../state/energy.ts';
import { getIntervalTotals } from '../../state/telemetry.ts';
import { testAgreement } from '../testing/agreement.ts';
import { testDeviceKey } from '../testing/energy-chain.ts';
import type { TestKey } from '../testing/fixtures.ts';
import { batchTx, reading } from '../testing/telemetry.ts';

/**
 * Random sequences of agreement txs (propose, sign, withdraw, collateralise, dispute, vote;
 * valid or not: admission refuses the invalid ones, and the block goes on without them),
 * deliveries of the sellers' devices and the clock moving on, on a real energy chain. A
 * "step" carries one of at most three agreements to its next phase (sign, cooling-off,
 * collateral at the level or short of it, the first slot, the seller's delivery in the slot
 * under way, a margin call left open to its deadline), so sequences reach execution,
 * settlement, disputes decided either way, margin calls and liquidation. After every step:
 * - money: balance + locked over every account (parties, validators taking fees, the
 *   zone's imbalance account, the insurance pool) is what it was, to the micro-unit;
 * - locked: each party's locked funds are exactly its collateral in agreements plus what
 *   open disputes froze of it or hold as its deposit;
 * - energy: per device, the Wh in UTXOs equals the Wh its closed intervals minted; each
 *   settled slot's delivery is its buyer's UTXO of that slot, and they sum to the
 *   agreement's deliveredWh.
 */

type Op =
  | {
      op: 'propose';
      seller: number;
      buyer: number;
      bySeller: boolean;
      slots: number;
      quantity: number;
      startIn: number;
      bps: number;
      price: number;
      kind: number;
    }
  | { op: 'step'; pick: number; short: boolean; permille: number }
  | { op: 'sign'; pick: number; proposer: boolean }
  | { op: 'withdraw'; pick: number; party: number }
  | { op: 'coolOff' }
  | { op: 'collateralise'; pick: number; party: number; amount: number }
  | { op: 'deliver'; device: number; exportWh: number }
  | { op: 'advance'; quarters: number }
  | { op: 'dispute'; pick: number; party: number; amount: number }
  | { op: 'vote'; pick: number; validator: number; count: number; forBuyer: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('propose' as const),
      seller: fc.nat(1),
      buyer: fc.nat(1),
      bySeller: fc.boolean(),
      slots: fc.integer({ min: 1, max: 6 }),
      quantity: fc.integer({ min: 1, max: 2000 }),
      startIn: fc.integer({ min: 2, max: 8 }),
      bps: fc.integer({ min: 1000, max: 2000 }),
      price: fc.integer({ min: 1, max: 300_000 }),
      kind: fc.nat(2),
    }),
  },
  // The agreement's natural next step (sign, wait out the cooling-off, post collateral at the level, or now and then short of it).
  {
    weight: 24,
    arbitrary: fc.record({
      op: fc.constant('step' as const),
      pick: fc.nat(),
      short: fc.constantFrom(false, false, false, false, true),
      permille: fc.oneof(fc.constant(1000), fc.integer({ min: 0, max: 1500 })),
    }),
  },
  // Mostly the counterparty signs; now and then the proposer tries to.
  { weight: 4, arbitrary: fc.record({ op: fc.constant('sign' as const), pick: fc.nat(), proposer: fc.constantFrom(false, false, false, true) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('withdraw' as const), pick: fc.nat(), party: fc.nat(1) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('coolOff' as const) }) },
  // amount 0: exactly up to the level (the common case); otherwise a random amount.
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant('collateralise' as const),
      pick: fc.nat(),
      party: fc.nat(1),
      amount: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 400_000 })),
    }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('deliver' as const), device: fc.nat(1), exportWh: fc.integer({ min: 0, max: 2500 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), quarters: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('dispute' as const), pick: fc.nat(), party: fc.nat(1), amount: fc.integer({ min: 1, max: 500_000 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('vote' as const),
      pick: fc.nat(),
      validator: fc.nat(3),
      count: fc.integer({ min: 1, max: 3 }),
      forBuyer: fc.boolean(),
    }),
  },
);

function priceOf(kind: number, price: number): PriceFormula {
  const p = BigInt(price);
  if (kind === 0) return { kind: 'fixed', price: p };
  if (kind === 1) return { kind: 'time-of-use', table: Array.from({ length: 24 }, (_, h) => p + BigInt(h)) };
  return { kind: 'market', premium: p / 10n, fallback: p };
}

function run(ops: readonly Op[]): void {
  const x = testAgreement();
  const { t } = x;
  const { c } = t;
  const iv = c.ctx().params.settlementIntervalMs;
  const ids: Uint8Array[] = [];
  const keys = [testDeviceKey(1), testDeviceKey(2)];
  /** Intervals in which each device reported (where it may have minted). */
  const reported: Set<number>[] = [new Set(), new Set()];
  const money = x.money();
  const accounts = [...t.sellers, ...t.buyers];

  const submit = (tx: Tx) => {
    try {
      c.check(tx);
    } catch (e) {
      if (!isJouleError(e)) throw e;
      c.block();
      return;
    }
    c.block(tx);
  };
  const deliver = (device: number, exportWh: bigint) => {
    const now = c.now();
    reported[device]!.add(Math.floor(now / iv) * iv);
    submit(batchTx(c, t.agg, [reading(`pv-${device}`, now, -exportWh)], (id) => keys[Number(id.slice(3))]!));
  };
  const agreementAt = (pick: number) => (ids.length === 0 ? undefined : getAgreement(c.state, ids[pick % ids.length]!));
  const partyKey = (buyer: Uint8Array, seller: Uint8Array, party: number): TestKey =>
    accounts.find((k) => toHex(k.address) === toHex(party === 0 ? buyer : seller))!;

  const check = () => {
    expect(x.money()).toBe(money);
    const locked = new Map<string, bigint>();
    const add = (a: Uint8Array, v: bigint) => locked.set(toHex(a), (locked.get(toHex(a)) ?? 0n) + v);
    const delivered = new Map<string, bigint>();
    for (const [, v] of c.state.iterate(agreementBucketKey(AgreementBucket.record))) {
      const a = decodeAgreement(v);
      add(a.buyer, a.buyerCollateral);
      add(a.seller, a.sellerCollateral);
      let inUtxos = 0n;
      for (let s = 0; s < a.nextSlot; s++) {
        const settled = getSlotSettlement(c.state, a.id, s)!;
        expect(settled.utxoId === undefined ? undefined : toHex(settled.utxoId)).toBe(settled.deliveredWh > 0n ? toHex(agreementUtxoId(a.id, s)) : undefined);
        inUtxos += settled.deliveredWh;
      }
      expect(inUtxos).toBe(a.deliveredWh);
      delivered.set(toHex(a.id), a.deliveredWh);
    }
    for (const [k, v] of c.state.iterate(agreementBucketKey(AgreementBucket.dispute))) {
      const d = decodeDispute(v);
      if (d.decidedFor !== undefined) continue;
      const a = getAgreement(c.state, k.subarray(2))!;
      const claimant = d.claimant === 'buyer' ? a.buyer : a.seller;
      add(claimant, d.deposit);
      add(d.claimant === 'buyer' ? a.seller : a.buyer, d.frozen);
    }
    for (const k of accounts) expect(getAccount(c.state, k.address).locked, `locked of ${toHex(k.address)}`).toBe(locked.get(toHex(k.address)) ?? 0n);
    const utxoWh = [0n, 0n];
    const byAgreement = new Map<string, bigint>();
    for (const [, v] of c.state.iterate(UTXO_RECORDS_PREFIX)) {
      const u = decodeEnergyUtxo(v);
      utxoWh[Number(u.provenance.deviceId.slice(3))]! += u.wh;
      for (const id of ids) {
        const a = getAgreement(c.state, id)!;
        for (let s = 0; s < a.nextSlot; s++)
          if (toHex(u.id) === toHex(agreementUtxoId(id, s))) {
            expect(toHex(u.owner)).toBe(toHex(a.buyer));
            byAgreement.set(toHex(id), (byAgreement.get(toHex(id)) ?? 0n) + u.wh);
          }
      }
    }
    for (const d of [0, 1]) {
      let minted = 0n;
      for (const I of reported[d]!) minted += getIntervalTotals(c.state, `pv-${d}`, I)?.mintedWh ?? 0n;
      expect(utxoWh[d]).toBe(minted);
    }
    for (const [id, wh] of delivered) expect(byAgreement.get(id) ?? 0n).toBe(wh);
  };

  for (const o of ops) {
    if (o.op === 'propose') {
      // A few agreements at a time, so the steps carry them through their phases.
      if (ids.length >= 3) continue;
      const seller = t.sellers[o.seller]!;
      const buyer = t.buyers[o.buyer]!;
      const who = o.bySeller ? seller : buyer;
      const tx = buildAgreementPropose({
        ...c.sender(who),
        role: o.bySeller ? 'seller' : 'buyer',
        counterparty: o.bySeller ? buyer.address : seller.address,
        deviceId: `pv-${o.seller}`,
        quantityWh: BigInt(o.quantity),
        firstSlotMs: (Math.floor(c.now() / iv) + 1 + o.startIn) * iv,
        slots: o.slots,
        price: priceOf(o.kind, o.price),
        collateralBps: o.bps,
      });
      submit(tx);
      if (getAgreement(c.state, tx.hash) !== undefined) ids.push(tx.hash);
    } else if (o.op === 'step') {
      const a = agreementAt(o.pick);
      if (a === undefined) continue;
      const level = collateralLevel(a.remainingValue, a.collateralBps);
      const lacking = a.buyerCollateral < level ? 0 : a.sellerCollateral < level ? 1 : undefined;
      if (a.phase === 'proposed') submit(buildAgreementSign({ ...c.sender(partyKey(a.buyer, a.seller, a.proposer === 'buyer' ? 1 : 0)), id: a.id }));
      else if (a.phase === 'signed' && c.now() < a.signedAtMs + COOLING_OFF_MS) {
        c.advance(COOLING_OFF_MS);
        c.block();
      } else if (lacking !== undefined && (a.phase === 'signed' || (!o.short && (a.phase === 'executing' || a.phase === 'disputed')))) {
        // A margin call is met unless the step is "short": then time moves on towards its deadline.
        const held = lacking === 0 ? a.buyerCollateral : a.sellerCollateral;
        const amount = o.short && level - held > 1n ? (level - held) / 2n : level - held;
        submit(buildAgreementCollateralise({ ...c.sender(partyKey(a.buyer, a.seller, lacking)), id: a.id, amount }));
      } else if (a.phase === 'collateralised') {
        c.advance(Math.max(0, a.firstSlotMs - c.now()));
        c.block();
      } else if (a.phase === 'executing' || a.phase === 'disputed') {
        // The seller's device exports permille of the quantity in the slot under way (if any), then time moves on.
        const k = Math.floor((c.now() - a.firstSlotMs) / iv);
        if (k >= 0 && k < a.slots) deliver(Number(a.deviceId.slice(3)), (a.quantityWh * BigInt(o.permille)) / 1000n);
        // A party that leaves its margin call open: time runs to the call's deadline.
        const call = Math.max(a.buyerCallMs, a.sellerCallMs);
        c.advance(lacking !== undefined && call > c.now() ? call - c.now() : iv / 2);
        c.block();
      } else {
        c.advance(iv / 4);
        c.block();
      }
    } else if (o.op === 'sign') {
      const a = agreementAt(o.pick);
      if (a === undefined) continue;
      const signer = (a.proposer === 'buyer') === o.proposer ? 0 : 1;
      submit(buildAgreementSign({ ...c.sender(partyKey(a.buyer, a.seller, signer)), id: a.id }));
    } else if (o.op === 'withdraw') {
      const a = agreementAt(o.pick);
      if (a === undefined) continue;
      submit(buildAgreementWithdraw({ ...c.sender(partyKey(a.buyer, a.seller, o.party)), id: a.id }));
    } else if (o.op === 'coolOff') {
      c.advance(COOLING_OFF_MS);
      c.block();
    } else if (o.op === 'collateralise') {
      const a = agreementAt(o.pick);
      if (a === undefined) continue;
      const r: PartyRole = o.party === 0 ? 'buyer' : 'seller';
      const held = r === 'buyer' ? a.buyerCollateral : a.sellerCollateral;
      const level = collateralLevel(a.remainingValue, a.collateralBps);
      // 0 means "exactly up to the level" (the common case); otherwise a random top-up.
      const amount = o.amount === 0 ? (level > held ? level - held : 1n) : BigInt(o.amount);
      submit(buildAgreementCollateralise({ ...c.sender(partyKey(a.buyer, a.seller, o.party)), id: a.id, amount }));
    } else if (o.op === 'deliver') {
      deliver(o.device, BigInt(o.exportWh));
    } else if (o.op === 'advance') {
      c.advance((o.quarters * iv) / 4);
      c.block();
    } else if (o.op === 'dispute') {
      const a = agreementAt(o.pick);
      if (a === undefined) continue;
      const counterparty = o.party === 0 ? a.seller : a.buyer;
      submit(buildAgreementDispute({ ...c.sender(partyKey(a.buyer, a.seller, o.party)), id: a.id, amount: BigInt(o.amount), counterparty }));
    } else {
      const a = agreementAt(o.pick);
      if (a === undefined) continue;
      // One block per vote: the vote that decides closes the dispute to the rest.
      const n = c.validators.length;
      for (let i = 0; i < o.count; i++) {
        const v = c.validators[(o.validator + i) % n]!;
        submit(buildAgreementVote({ ...c.sender(v), id: a.id, decision: o.forBuyer ? 'buyer' : 'seller', buyer: a.buyer, seller: a.seller }));
      }
    }
    check();
  }
}

describe('agreements: conservation under random sequences', () => {
  it('money and energy are conserved exactly, and locked funds are exactly what agreements and disputes hold', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 30, maxLength: 90, size: 'max' }), (ops) => run(ops)),
      { numRuns: 60 },
    );
  });
});
