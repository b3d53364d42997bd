import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { overDeliveryShare } from './market.ts';

describe('overDeliveryShare', () => {
  it('shares the export beyond every commitment by volume; alone, a party takes it all', () => {
    // 2,000 metered, 600 traded, 1,000 agreed: 400 over, 150 for the trades and 250 for the agreement.
    expect(overDeliveryShare(2000n, 600n, 1000n, 600n)).toBe(150n);
    expect(overDeliveryShare(2000n, 600n, 1000n, 1000n)).toBe(250n);
    expect(overDeliveryShare(1500n, 1000n, 0n, 1000n)).toBe(500n);
    expect(overDeliveryShare(1500n, 0n, 1000n, 1000n)).toBe(500n);
    // Nothing beyond the commitments, or nothing committed by this party: nothing.
    expect(overDeliveryShare(1600n, 600n, 1000n, 600n)).toBe(0n);
    expect(overDeliveryShare(900n, 600n, 1000n, 1000n)).toBe(0n);
    expect(overDeliveryShare(2000n, 600n, 1000n, 0n)).toBe(0n);
  });

  it('the shares of all parties never add up to more than the over-delivery, and miss less than one Wh each', () => {
    const volume = fc.bigInt({ min: 1n, max: 10n ** 12n });
    fc.assert(
      fc.property(fc.array(volume, { minLength: 1, maxLength: 8 }), fc.bigInt({ min: 0n, max: 10n ** 13n }), (parties, exportWh) => {
        const [traded, ...agreements] = parties;
        const agreed = agreements.reduce((s, q) => s + q, 0n);
        const committed = traded! + agreed;
        const over = exportWh > committed ? exportWh - committed : 0n;
        const charged = parties.reduce((s, mine) => s + overDeliveryShare(exportWh, traded!, agreed, mine), 0n);
        expect(charged <= over).toBe(true);
        expect(over - charged < BigInt(parties.length)).toBe(true);
      }),
    );
  });
});
