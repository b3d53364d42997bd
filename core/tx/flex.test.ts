import { describe, expect, it } from 'vitest';
import { encode, type Encodable } from '../codec.ts';
import { ErrorCode } from '../errors.ts';
import {
  decodeFlexActivation,
  decodeFlexBid,
  encodeFlexActivation,
  encodeFlexBid,
  flexEscrow,
  flexPayment,
  flexPenalty,
  floorDiv,
  rampedEnergyWh,
} from '../flex.ts';
import { errorOf } from '../testing/errors.ts';
import { decodeFlexActivateBody, encodeFlexActivateBody } from './flex-activate.ts';
import { decodeFlexBidBody, encodeFlexBidBody, type FlexBidBody } from './flex-bid.ts';
import { decodeFlexConfirmBody } from './flex-confirm.ts';

const BID: FlexBidBody = {
  deviceIds: ['bat-0', 'bat-1'],
  capacityKw: 500,
  rampUpKwPerMin: 100,
  rampDownKwPerMin: 200,
  minSocPercent: 10,
  maxSocPercent: 90,
  pricePerMwh: 120_000_000n,
  availableFromMs: 1_800_000,
  availableUntilMs: 3_600_000,
};
const bidWire = (b: Partial<Record<keyof FlexBidBody, Encodable>>): Uint8Array => {
  const f = { ...BID, ...b } as Record<string, Encodable>;
  return encode([
    f.deviceIds!,
    f.capacityKw!,
    f.rampUpKwPerMin!,
    f.rampDownKwPerMin!,
    f.minSocPercent!,
    f.maxSocPercent!,
    f.pricePerMwh!,
    f.availableFromMs!,
    f.availableUntilMs!,
  ]);
};
const rejected = (f: () => unknown) => {
  const e = errorOf(f);
  return { code: e.code, field: e.field };
};

describe('flex-bid body', () => {
  it('round-trips', () => {
    expect(decodeFlexBidBody(encodeFlexBidBody(BID))).toEqual(BID);
  });

  it.each([
    ['no devices', { deviceIds: [] }, ErrorCode.TX_INVALID_FIELD, 'tx.body.deviceIds'],
    ['devices not ascending', { deviceIds: ['b', 'a'] }, ErrorCode.TX_INVALID_FIELD, 'tx.body.deviceIds[1]'],
    ['a device id with a space', { deviceIds: ['a b'] }, ErrorCode.TX_INVALID_FIELD, 'tx.body.deviceIds[0]'],
    ['zero capacity', { capacityKw: 0 }, ErrorCode.TX_INVALID_FIELD, 'tx.body.capacityKw'],
    ['capacity beyond 10 GW', { capacityKw: 10_000_001 }, ErrorCode.TX_INVALID_FIELD, 'tx.body.capacityKw'],
    ['a negative ramp', { rampUpKwPerMin: -1 }, ErrorCode.CODEC_WRONG_TYPE, 'tx.body.rampUpKwPerMin'],
    ['zero ramp down', { rampDownKwPerMin: 0 }, ErrorCode.TX_INVALID_FIELD, 'tx.body.rampDownKwPerMin'],
    ['state of charge above 100', { maxSocPercent: 101 }, ErrorCode.TX_INVALID_FIELD, 'tx.body.maxSocPercent'],
    ['max below min state of charge', { minSocPercent: 50, maxSocPercent: 40 }, ErrorCode.TX_INVALID_FIELD, 'tx.body.maxSocPercent'],
    ['a price of 0', { pricePerMwh: 0 }, ErrorCode.TX_INVALID_FIELD, 'tx.body.pricePerMwh'],
    ['a price as a string', { pricePerMwh: '5' }, ErrorCode.CODEC_WRONG_TYPE, 'tx.body.pricePerMwh'],
    ['an empty availability', { availableUntilMs: 1_800_000 }, ErrorCode.TX_INVALID_FIELD, 'tx.body.availableUntilMs'],
    ['availability over a week', { availableUntilMs: 1_800_000 + 7 * 86_400_000 + 1 }, ErrorCode.TX_INVALID_FIELD, 'tx.body.availableUntilMs'],
  ] as const)('refuses %s naming the field', (_, b, code, field) => {
    expect(rejected(() => decodeFlexBidBody(bidWire(b as never)))).toEqual({ code, field });
  });

  it('refuses the wrong number of fields', () => {
    expect(rejected(() => decodeFlexBidBody(encode([['a'], 1])))).toEqual({ code: ErrorCode.CODEC_WRONG_TYPE, field: 'tx.body' });
  });
});

describe('flex-activate and flex-confirm bodies', () => {
  const id = new Uint8Array(32).fill(7);
  it('round-trips', () => {
    const b = { bidId: id, powerKw: 240, startMs: 900_000, endMs: 1_800_000 };
    expect(decodeFlexActivateBody(encodeFlexActivateBody(b))).toEqual(b);
  });

  it.each([
    ['a short bid id', [new Uint8Array(31), 1, 0, 900_000], ErrorCode.CODEC_WRONG_TYPE, 'tx.body.bidId'],
    ['zero power', [id, 0, 0, 900_000], ErrorCode.TX_INVALID_FIELD, 'tx.body.powerKw'],
    ['an empty window', [id, 1, 900_000, 900_000], ErrorCode.TX_INVALID_FIELD, 'tx.body.endMs'],
    ['a window over a day', [id, 1, 0, 86_400_001], ErrorCode.TX_INVALID_FIELD, 'tx.body.endMs'],
    ['a negative start', [id, 1, -5, 900_000], ErrorCode.CODEC_WRONG_TYPE, 'tx.body.startMs'],
  ] as const)('refuses %s naming the field', (_, wire, code, field) => {
    expect(rejected(() => decodeFlexActivateBody(encode(wire as unknown as Encodable)))).toEqual({ code, field });
  });

  it('a confirmation names a 32-byte activation id', () => {
    expect(decodeFlexConfirmBody(encode([id])).activationId).toEqual(id);
    expect(rejected(() => decodeFlexConfirmBody(encode([id.subarray(1)])))).toEqual({ code: ErrorCode.CODEC_WRONG_TYPE, field: 'tx.body.activationId' });
    expect(rejected(() => decodeFlexConfirmBody(encode([])))).toEqual({ code: ErrorCode.CODEC_WRONG_TYPE, field: 'tx.body' });
  });
});

describe('flex records and arithmetic', () => {
  it('a bid and an activation round-trip through their state encodings, a negative baseline included', () => {
    const bid = { ...BID, aggregator: new Uint8Array(20).fill(1), height: 9, reservedUntilMs: 0 };
    expect(decodeFlexBid(encodeFlexBid(bid))).toEqual(bid);
    const a = {
      bidId: new Uint8Array(32).fill(2),
      dso: new Uint8Array(20).fill(3),
      aggregator: new Uint8Array(20).fill(1),
      powerKw: 240,
      startMs: 900_000,
      endMs: 1_800_000,
      pricePerMwh: 5n,
      activatedAtMs: 1,
      height: 4,
      status: 'confirmed' as const,
      confirmedAtMs: 2,
      commandHash: new Uint8Array(32).fill(4),
      escrow: 10n,
      rampUpKwPerMin: 30,
      baselineWh: -250n,
      baselineIntervals: 3,
      settledIntervals: 1,
      deliveredWh: 7n,
      paid: 8n,
      penalty: 0n,
    };
    expect(decodeFlexActivation(encodeFlexActivation(a))).toEqual(a);
  });

  it('rounds as documented', () => {
    // 240 kW at 60 kW/min: 4 minutes of ramp. Its first 30 s reach 30 kW: 30 x 30 s / 2 = 125 Wh.
    expect(rampedEnergyWh(240, 60, 0, 30_000)).toBe(125n);
    // The whole ramp: 240 kW x 4 min / 2 = 8,000 Wh; then flat, 2,000 Wh each 30 s.
    expect(rampedEnergyWh(240, 60, 0, 240_000)).toBe(8000n);
    expect(rampedEnergyWh(240, 60, 240_000, 270_000)).toBe(2000n);
    // A ramp ending inside an interval: 1 kW/min to 1 kW takes 60 s; over 90 s: 0.5/60 + 1/120 kWh = 16.67 Wh, down.
    expect(rampedEnergyWh(1, 1, 0, 90_000)).toBe(16n);
    // An instant ramp is the flat energy, 240 x 30 s = 2,000 Wh, less the 0.05 Wh of its 1.4 ms ramp, down.
    expect(rampedEnergyWh(240, 10_000_000, 0, 30_000)).toBe(1999n);
    expect(rampedEnergyWh(1, 10_000_000, 0, 1000)).toBe(0n); // 0.28 Wh, down
    expect(flexPayment(1999n, 1_000_000n)).toBe(1999n);
    expect(flexPayment(1n, 999_999n)).toBe(0n); // down
    expect(flexEscrow(1n, 999_999n)).toBe(1n); // up
    expect(flexPenalty(600n, 100_000_000n, 500)).toBe(3000n);
    expect(flexPenalty(1n, 1_000_000n, 500)).toBe(0n); // 0.05, down
    expect(floorDiv(-7n, 2n)).toBe(-4n);
    expect(floorDiv(7n, 2n)).toBe(3n);
    expect(floorDiv(-8n, 2n)).toBe(-4n);
  });
});
