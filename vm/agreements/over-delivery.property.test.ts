import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { imbalanceAccount } from '../../core/market.ts';
import { settlesAt } from '../../core/meter.ts';
import { getAccount } from '../../state/accounts.ts';
import { getSlotSettlement } from '../../state/agreements.ts';
import { testAgreement } from '../testing/agreement.ts';
import { testDeviceKey } from '../testing/energy-chain.ts';
import { ZONE } from '../testing/market.ts';
import { batchTx, reading } from '../testing/telemetry.ts';

/**
 * A device's over-delivery in an interval is charged once in all (core/market.ts
 * overDeliveryShare), whichever of its trades and agreements' slots settle first and
 * whichever of its agreements end in that interval. Every price here is 200,000 (the
 * market's P and the agreements' fixed price), so a charge is 4 micro-units a Wh
 * (200,000 x 200 bps / 10^7) and the Wh charged are the money / 4.
 */

interface Case {
  /** Each agreement's slots (1: its last slot is the interval measured) and quantity. */
  readonly agreements: readonly { slots: number; quantityWh: bigint }[];
  readonly tradedWh: bigint;
  readonly exportWh: bigint;
}

function run(k: Case) {
  const x = testAgreement();
  const { t } = x;
  const { c } = t;
  // Far enough ahead for every agreement's cooling-off.
  const F = 40;
  const I = x.slot(F);
  const ids = k.agreements.map((a) => x.ready({ ...a, firstSlotMs: I }));
  if (k.tradedWh > 0n)
    c.block(t.place(x.seller, 'ask', k.tradedWh, 100_000n, { I, device: 'pv-0' }), t.place(t.buyers[1]!, 'bid', k.tradedWh, 300_000n, { I }));
  const money = x.money();
  const im = getAccount(c.state, imbalanceAccount(ZONE)).balance;
  x.to(I);
  c.block();
  x.deliver(F, k.exportWh);
  x.settle(F);
  const slots = ids.map((id) => getSlotSettlement(c.state, id, 0)!);
  const charged = getAccount(c.state, imbalanceAccount(ZONE)).balance - im;
  return { slots, charged, conserved: x.money() === money };
}

const committed = (k: Case) => k.agreements.reduce((s, a) => s + a.quantityWh, k.tradedWh);

describe('over-delivery across a device trades and agreements: charged once', () => {
  it('an agreement whose last slot is the interval still counts for the slots that settle after it', () => {
    // Two agreements of 100 Wh each, one ending with the interval, and exactly 200 Wh metered: nobody over-delivered.
    for (const agreements of [
      [
        { slots: 1, quantityWh: 100n },
        { slots: 2, quantityWh: 100n },
      ],
      [
        { slots: 2, quantityWh: 100n },
        { slots: 1, quantityWh: 100n },
      ],
      [
        { slots: 1, quantityWh: 100n },
        { slots: 1, quantityWh: 100n },
      ],
    ]) {
      const r = run({ agreements, tradedWh: 0n, exportWh: 200n });
      expect(r.slots.map((s) => s.overCharge)).toEqual([0n, 0n]);
      expect(r.charged).toBe(0n);
      expect(r.conserved).toBe(true);
    }
  });

  it('property: the Wh charged are the over-delivery, less at most one Wh of rounding per party; money conserved', () => {
    const arbCase = fc.record({
      agreements: fc.array(fc.record({ slots: fc.integer({ min: 1, max: 2 }), quantityWh: fc.bigInt({ min: 1n, max: 400n }) }), { minLength: 1, maxLength: 4 }),
      tradedWh: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 600n })),
      exportWh: fc.bigInt({ min: 0n, max: 4_000n }),
    });
    fc.assert(
      fc.property(arbCase, (k) => {
        const r = run(k);
        const over = k.exportWh > committed(k) ? k.exportWh - committed(k) : 0n;
        const parties = BigInt(k.agreements.length + (k.tradedWh > 0n ? 1 : 0));
        expect(r.charged % 4n).toBe(0n);
        const wh = r.charged / 4n;
        expect(wh).toBeLessThanOrEqual(over);
        expect(wh).toBeGreaterThanOrEqual(over - parties);
        expect(r.conserved).toBe(true);
      }),
      { numRuns: 25 },
    );
  });
});

describe('an agreement slot waits for its interval market to clear', () => {
  it('a market still clearing when the slot is due (more than a block of clearing work) has its trades take the token first, and its energy is not over-delivery', () => {
    const x = testAgreement();
    const { t } = x;
    const { c } = t;
    const p = c.ctx().params;
    // Two slots from S40: slot 1's interval (S41) has a busy market, whose gate is after the agreement starts.
    const id = x.ready({ firstSlotMs: x.slot(40), slots: 2, quantityWh: 1000n });
    const I = x.slot(41);
    // 5,001 asks of 1 Wh from pv-1 match first (a block writes 625 trades: CLEARING_UNITS.trade each of 2,500 units), then pv-0's 600 Wh.
    const small = Array.from({ length: 5_001 }, (_, i) => t.place(t.sellers[1]!, 'ask', 1n, 100_000n, { I, offset: i }));
    c.block(t.place(t.buyers[1]!, 'bid', 10_000n, 300_000n, { I }), t.place(x.seller, 'ask', 600n, 150_000n, { I, device: 'pv-0' }), ...small);
    x.to(x.slot(40));
    c.block();
    expect(x.get(id).phase).toBe('executing');
    const money = x.money();
    const im = getAccount(c.state, imbalanceAccount(ZONE)).balance;
    // Two blocks past the gate: pv-0's 1,600 Wh of S41 arrive in the first, the slot is due in the second.
    x.to(settlesAt(I, p) - p.blockPeriodMs);
    c.block(batchTx(c, t.agg, [reading('pv-0', I + p.settlementIntervalMs - 1_000, -1600n)], () => testDeviceKey(1)));
    c.block();
    for (let i = 0; i < 30 && getSlotSettlement(c.state, id, 1) === undefined; i++) c.block();
    // 1,600 metered against 600 sold in the market + 1,000 agreed: no over-delivery; the trade got its 600 Wh.
    expect(getSlotSettlement(c.state, id, 1)).toMatchObject({ meteredWh: 1600n, deliveredWh: 1000n, overCharge: 0n, price: 200_000n });
    expect(t.energyOf(t.buyers[1]!.address)).toBe(600n);
    expect(getAccount(c.state, imbalanceAccount(ZONE)).balance).toBe(im);
    expect(x.money()).toBe(money);
  });
});
