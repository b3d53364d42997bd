import { describe, expect, it } from 'vitest';
import { encode, type Encodable } from '../codec.ts';
import { ErrorCode } from '../errors.ts';
import { decodeReversal, encodeReversal, MAX_REASON_BYTES, type Reversal } from '../reversal.ts';
import { errorOf } from '../testing/errors.ts';
import { decodeReversalApproveBody, encodeReversalApproveBody } from './reversal-approve.ts';
import { decodeReversalProposeBody, encodeReversalProposeBody, type ReversalProposeBody } from './reversal-propose.ts';

const BUYER = new Uint8Array(20).fill(1);
const SELLER = new Uint8Array(20).fill(2);
const BODY: ReversalProposeBody = { zone: 'NL', intervalStartMs: 1_700_000_100_000, seq: 3, buyer: BUYER, seller: SELLER, reason: 'meter recalibrated: ±3 %' };
const wire = (over: Partial<Record<keyof ReversalProposeBody, Encodable>> = {}): Encodable[] => {
  const b = { ...BODY, ...over };
  return [b.zone, b.intervalStartMs, b.seq, b.buyer, b.seller, b.reason] as Encodable[];
};
const proposeError = (w: Encodable[]) => errorOf(() => decodeReversalProposeBody(encode(w)));

/** msgpack str8 of raw bytes (any bytes, unlike encode, which writes only well-formed text). */
function str8(bytes: number[]): Uint8Array {
  return new Uint8Array([0xd9, bytes.length, ...bytes]);
}

describe('reversal tx bodies', () => {
  it('round-trip, reason in UTF-8 included', () => {
    expect(decodeReversalProposeBody(encodeReversalProposeBody(BODY))).toEqual(BODY);
    const { reason: _r, ...target } = BODY;
    expect(decodeReversalApproveBody(encodeReversalApproveBody(target))).toEqual(target);
  });

  it.each([
    ['zone', wire({ zone: 'N L' }), 'tx.body.zone'],
    ['intervalStartMs', wire({ intervalStartMs: -1 }), 'tx.body.intervalStartMs'],
    ['seq above u32', wire({ seq: 2 ** 32 }), 'tx.body.seq'],
    ['buyer length', wire({ buyer: new Uint8Array(19) }), 'tx.body.buyer'],
    ['seller type', wire({ seller: 'joule1...' }), 'tx.body.seller'],
    ['empty reason', wire({ reason: '' }), 'tx.body.reason'],
    ['reason over 512 bytes', wire({ reason: 'é'.repeat(MAX_REASON_BYTES / 2 + 1) }), 'tx.body.reason'],
    ['reason type', wire({ reason: 7 }), 'tx.body.reason'],
  ])('hostile %s: a typed error naming the field', (_n, w, field) => {
    const e = proposeError(w);
    expect(e.field).toBe(field);
    expect(e.code === ErrorCode.TX_INVALID_FIELD || e.code === ErrorCode.CODEC_WRONG_TYPE).toBe(true);
  });

  it('a reason of exactly 512 bytes of UTF-8 passes', () => {
    expect(decodeReversalProposeBody(encode(wire({ reason: 'é'.repeat(MAX_REASON_BYTES / 2) }))).reason).toHaveLength(256);
  });

  it('wrong arity and invalid UTF-8 in the reason are refused by the codec', () => {
    expect(proposeError(wire().slice(0, 5))).toMatchObject({ code: ErrorCode.CODEC_WRONG_TYPE, field: 'tx.body' });
    expect(errorOf(() => decodeReversalApproveBody(encode(wire())))).toMatchObject({ code: ErrorCode.CODEC_WRONG_TYPE, field: 'tx.body' });
    const good = encode(wire({ reason: 'ab' }));
    const bad = new Uint8Array([...good.subarray(0, good.length - 3), ...str8([0xc3, 0x28])]);
    expect(good.subarray(good.length - 3)).toEqual(new Uint8Array([0xa2, 0x61, 0x62]));
    expect(errorOf(() => decodeReversalProposeBody(bad)).code).toMatch(/^CODEC_/);
  });

  it('the reversal record round-trips, open and executed', () => {
    const r: Reversal = { id: 7, ...BODY, approvers: [SELLER, BUYER], proposedHeight: 10, executedHeight: undefined };
    expect(decodeReversal(encodeReversal(r))).toEqual(r);
    expect(decodeReversal(encodeReversal({ ...r, executedHeight: 12 }))).toEqual({ ...r, executedHeight: 12 });
  });
});
