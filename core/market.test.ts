import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bookOrderVolume, decodeBookOrder, encodeBookOrder, orderId, orderPrice, overDeliveryShare, parseOrderId } from './market.ts';

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

describe("the pricing walk's reads", () => {
  it('bookOrderVolume gives what decodeBookOrder gives, in place or decoded whole, at every width of the volume', () => {
    const volumes = [1n, 127n, 128n, 255n, 256n, 65_535n, 65_536n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n, 2n ** 63n];
    fc.assert(
      fc.property(
        fc.constantFrom(...volumes),
        fc.option(fc.constantFrom('pv-0', 'a-much-longer-device-id-7')),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        (volumeWh, deviceId, locked) => {
          const bytes = encodeBookOrder({ owner: new Uint8Array(20).fill(9), volumeWh, deviceId: deviceId ?? undefined, locked });
          expect(bookOrderVolume(bytes)).toBe(decodeBookOrder(bytes).volumeWh);
        },
      ),
    );
  });

  it('orderPrice reads the price parseOrderId reads, from an id or from a key that holds it at an offset', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'bid' | 'ask'>('bid', 'ask'),
        fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
        fc.constantFrom('NL', 'ZONE-WITH-A-LONG-NAME'),
        fc.nat(),
        (side, price, zone, height) => {
          const id = orderId({ zone, intervalStartMs: 1_800_000_000_000, side, price, height, index: 3, deviceId: side === 'ask' ? 'pv-0' : undefined });
          expect(orderPrice(id)).toBe(parseOrderId(id, 'id').price);
          expect(orderPrice(Uint8Array.of(0x20, 0x02, ...id), 2)).toBe(price);
        },
      ),
    );
  });
});
