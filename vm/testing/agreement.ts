/**
 * Bilateral agreements for tests (not used by the node): a test market (vm/testing/market.ts)
 * whose seller 0 (device pv-0) and buyer 0 agree, with helpers to walk the phases, send a
 * slot's meter data and settle it.
 */
import { COOLING_OFF_MS, INSURANCE_POOL, type Agreement, type PriceFormula } from '../../core/agreement.ts';
import { settlesAt } from '../../core/meter.ts';
import { buildAgreementCollateralise, buildAgreementSign, buildAgreementVote, buildAgreementWithdraw } from '../../core/tx/agreement-actions.ts';
import { buildAgreementPropose, type AgreementProposeBody } from '../../core/tx/agreement-propose.ts';
import type { Tx } from '../../core/tx.ts';
import { getAccount } from '../../state/accounts.ts';
import { getAgreement } from '../../state/agreements.ts';
import type { BlockResult } from '../types.ts';
import type { TestValidator } from '../../consensus/testing/fixtures.ts';
import type { TestKey } from './fixtures.ts';
import { testMarket, type TestMarket } from './market.ts';
import { testDeviceKey } from './energy-chain.ts';
import { batchTx, reading } from './telemetry.ts';

export const FIXED_200K: PriceFormula = { kind: 'fixed', price: 200_000n };

export interface TestAgreement {
  readonly t: TestMarket;
  readonly buyer: TestKey;
  readonly seller: TestKey;
  /** The first slot's start: four intervals after the market's I, so propose, sign and a cooling-off fit before it. */
  readonly S0: number;
  readonly interval: number;
  proposeTx(more?: Partial<AgreementProposeBody>, who?: TestKey): Tx;
  /** Proposes (seller 0 by default) in a block of its own; returns the agreement id. */
  propose(more?: Partial<AgreementProposeBody>): Uint8Array;
  get(id: Uint8Array): Agreement;
  signTx(id: Uint8Array, who?: TestKey): Tx;
  withdrawTx(id: Uint8Array, who: TestKey): Tx;
  collateraliseTx(id: Uint8Array, who: TestKey, amount: bigint): Tx;
  /** The error admission gives `tx` on the current state (undefined: it would be admitted). */
  refusal(tx: Tx): { code: string; field?: string } | undefined;
  sign(id: Uint8Array, who?: TestKey): BlockResult;
  withdraw(id: Uint8Array, who: TestKey): BlockResult;
  collateralise(id: Uint8Array, who: TestKey, amount: bigint): BlockResult;
  /** Proposes, signs, waits out the cooling-off and posts `level` for both: collateralised. */
  ready(more?: Partial<AgreementProposeBody>): Uint8Array;
  /** The start of slot `k`. */
  slot(k: number): number;
  /** Moves the clock to `ms` if it is behind. */
  to(ms: number): void;
  /** Sends pv-0's export for slot `k` (one reading inside the slot). */
  deliver(k: number, exportWh: bigint): void;
  /** Advances to slot `k`'s settlement and runs a block. */
  settle(k: number): BlockResult;
  /** Every test account's money plus the imbalance account and the insurance pool. */
  money(): bigint;
}

export function testAgreement(): TestAgreement {
  const t = testMarket({ sellers: 2, buyers: 2 });
  const { c } = t;
  const p = c.ctx().params;
  const interval = p.settlementIntervalMs;
  const S0 = t.I + 4 * interval;
  const seller = t.sellers[0]!;
  const buyer = t.buyers[0]!;
  const key0 = testDeviceKey(1);
  const ok = (r: BlockResult) => {
    const failed = r.receipts.find((x) => !x.success);
    if (failed !== undefined) throw new Error(`tx failed: ${JSON.stringify(failed, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
    return r;
  };
  const a: TestAgreement = {
    t,
    buyer,
    seller,
    S0,
    interval,
    proposeTx: (more = {}, who = seller) =>
      buildAgreementPropose({
        ...c.sender(who),
        role: who === seller ? 'seller' : 'buyer',
        counterparty: who === seller ? buyer.address : seller.address,
        deviceId: 'pv-0',
        quantityWh: 1000n,
        firstSlotMs: S0,
        slots: 2,
        price: FIXED_200K,
        collateralBps: 1500,
        ...more,
      }),
    propose(more) {
      const tx = a.proposeTx(more);
      ok(c.block(tx));
      return tx.hash;
    },
    get: (id) => getAgreement(c.state, id)!,
    signTx: (id, who = buyer) => buildAgreementSign({ ...c.sender(who), id }),
    withdrawTx: (id, who) => buildAgreementWithdraw({ ...c.sender(who), id }),
    collateraliseTx: (id, who, amount) => buildAgreementCollateralise({ ...c.sender(who), id, amount }),
    refusal(tx) {
      try {
        c.check(tx);
        return undefined;
      } catch (e) {
        return e as { code: string; field?: string };
      }
    },
    sign: (id, who = buyer) => c.block(a.signTx(id, who)),
    withdraw: (id, who) => c.block(a.withdrawTx(id, who)),
    collateralise: (id, who, amount) => c.block(a.collateraliseTx(id, who, amount)),
    ready(more) {
      const id = a.propose(more);
      ok(a.sign(id));
      c.advance(COOLING_OFF_MS);
      const level = (a.get(id).remainingValue * BigInt(a.get(id).collateralBps) + 9_999_999n) / 10_000_000n;
      ok(a.collateralise(id, buyer, level));
      ok(a.collateralise(id, seller, level));
      return id;
    },
    slot: (k) => S0 + k * interval,
    to(ms) {
      if (c.now() < ms) c.advance(ms - c.now());
    },
    deliver(k, exportWh) {
      a.to(a.slot(k) + 100);
      ok(c.block(batchTx(c, t.agg, [reading('pv-0', c.now(), -exportWh)], () => key0)));
    },
    settle(k) {
      a.to(settlesAt(a.slot(k), p));
      return c.block();
    },
    money() {
      const pool = getAccount(c.state, INSURANCE_POOL);
      return t.money() + pool.balance + pool.locked;
    },
  };
  return a;
}

/**
 * An agreement of `slots` (3) executing, slot 0 settled with `deliveredWh` (1,000; null: no
 * reading at all) delivered: what a dispute is opened on. Returns its id and the money there is.
 */
export function slotZeroSettled(x: TestAgreement, opts: { slots?: number; deliveredWh?: bigint | null } = {}): { id: Uint8Array; money: bigint } {
  const id = x.ready({ slots: opts.slots ?? 3 });
  x.to(x.S0);
  x.t.c.block();
  const wh = opts.deliveredWh === undefined ? 1000n : opts.deliveredWh;
  if (wh !== null) x.deliver(0, wh);
  x.settle(0);
  return { id, money: x.money() };
}

/** `who`'s vote (a validator by its index, or any key) on the dispute of agreement `id`. */
export function disputeVote(x: TestAgreement, id: Uint8Array, who: number | TestKey | TestValidator, decision: 'buyer' | 'seller', offset = 0): Tx {
  const { c } = x.t;
  const sender = typeof who === 'number' ? c.validators[who]! : who;
  return buildAgreementVote({ ...c.sender(sender, offset), id, decision, buyer: x.buyer.address, seller: x.seller.address });
}
