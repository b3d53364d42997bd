import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { imbalanceAccount } from '../../core/market.ts';
import { marketId } from '../../core/state-keys.ts';
import { buildReversalApprove } from '../../core/tx/reversal-approve.ts';
import { buildReversalPropose } from '../../core/tx/reversal-propose.ts';
import { getAccount } from '../../state/accounts.ts';
import { getSettlement } from '../../state/markets.ts';
import { StateOverlay } from '../../state/overlay.ts';
import { putGovernorSet } from '../../state/reversals.ts';
import { testMarket, ZONE } from '../testing/market.ts';

/**
 * Settlement then its reversal, for random prices, volumes and metered export: money and
 * energy are conserved at every step, and the reversal leaves both parties exactly where
 * they stood before settlement (balance + locked), but for the over-delivery charge, which
 * is the device's, not the trade's; the buyer holds none of the interval's energy and the
 * seller all it exported.
 */
describe('reversal conserves money and energy and undoes exactly the settlement', () => {
  it('for any prices, volume and delivery', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4000 }),
        fc.integer({ min: 1, max: 400_000 }),
        fc.integer({ min: 0, max: 400_000 }),
        fc.integer({ min: 0, max: 6000 }),
        (volume, askPrice, spread, exportWh) => {
          const t = testMarket({ sellers: 1, buyers: 1 });
          const { c } = t;
          const [g0, g1] = c.validators;
          const o = new StateOverlay(c.state);
          putGovernorSet(o, { threshold: 2, governors: [g0!.validator.address, g1!.validator.address] });
          c.state.apply(o.changes());
          const b = t.buyers[0]!;
          const s = t.sellers[0]!;
          c.block(t.place(b, 'bid', BigInt(volume), BigInt(askPrice + spread)), t.place(s, 'ask', BigInt(volume), BigInt(askPrice)));
          t.toGate();
          c.block();
          if (exportWh > 0) t.deliver([['pv-0', BigInt(exportWh)]]);
          const total = (a: Uint8Array) => {
            const x = getAccount(c.state, a);
            return x.balance + x.locked;
          };
          // Before settlement: the interval is not minted yet (its close comes with the settlement's block).
          const before = { b: total(b.address), s: total(s.address), money: t.money() };
          t.toSettlement();
          c.block();
          expect(t.money()).toBe(before.money);
          expect(t.energyOf(b.address) + t.energyOf(s.address)).toBe(BigInt(exportWh));
          expect(getSettlement(c.state, marketId(ZONE, t.I), 0)).toBeDefined();
          const charge = getAccount(c.state, imbalanceAccount(ZONE)).balance;

          const target = { zone: ZONE, intervalStartMs: t.I, seq: 0, buyer: b.address, seller: s.address };
          c.block(buildReversalPropose({ ...c.sender(g0!), ...target, reason: 'property' }));
          const r = c.block(buildReversalApprove({ ...c.sender(g1!), ...target }));
          expect(r.receipts[0]!.success).toBe(true);
          expect(t.money()).toBe(before.money);
          expect(total(b.address)).toBe(before.b);
          expect(total(s.address)).toBe(before.s - charge);
          expect(t.energyOf(b.address)).toBe(0n);
          expect(t.energyOf(s.address)).toBe(BigInt(exportWh));
        },
      ),
      { numRuns: 25 },
    );
  });
});
