import { describe, expect, it } from 'vitest';
import { encode } from '../codec.ts';
import { decodeAgreementDisputeBody, decodeAgreementRefBody, decodeAgreementVoteBody } from './agreement-actions.ts';
import { decodeAgreementProposeBody, encodeAgreementProposeBody, type AgreementProposeBody } from './agreement-propose.ts';

const ID = new Uint8Array(32).fill(7);
const ADDR = new Uint8Array(20).fill(3);
const BODY: AgreementProposeBody = {
  role: 'seller',
  counterparty: ADDR,
  deviceId: 'pv-0',
  quantityWh: 1000n,
  firstSlotMs: 900_000,
  slots: 4,
  price: { kind: 'time-of-use', table: Array.from({ length: 24 }, () => 100n) },
  collateralBps: 1500,
};
const wire = (over: Partial<Record<number, unknown>>) => {
  const base: unknown[] = [1, ADDR, 'pv-0', 1000n, 900_000, 4, [0, 200n], 1500];
  for (const [i, v] of Object.entries(over)) base[Number(i)] = v;
  return encode(base as never);
};
const fails = (f: () => unknown, code: string, field: string) => expect(f).toThrow(expect.objectContaining({ code, field }));

describe('agreement body codecs', () => {
  it('round-trips a proposal with a time-of-use table', () => {
    expect(decodeAgreementProposeBody(encodeAgreementProposeBody(BODY))).toEqual(BODY);
  });

  it('refuses hostile proposals with a typed error naming the field', () => {
    fails(() => decodeAgreementProposeBody(wire({ 0: 2 })), 'TX_INVALID_FIELD', 'tx.body.role');
    fails(() => decodeAgreementProposeBody(wire({ 1: new Uint8Array(19) })), 'CODEC_WRONG_TYPE', 'tx.body.counterparty');
    fails(() => decodeAgreementProposeBody(wire({ 2: 'bad id!' })), 'TX_INVALID_FIELD', 'tx.body.deviceId');
    fails(() => decodeAgreementProposeBody(wire({ 3: 0n })), 'TX_INVALID_FIELD', 'tx.body.quantityWh');
    fails(() => decodeAgreementProposeBody(wire({ 5: 0 })), 'TX_INVALID_FIELD', 'tx.body.slots');
    fails(() => decodeAgreementProposeBody(wire({ 5: 2881 })), 'TX_INVALID_FIELD', 'tx.body.slots');
    fails(() => decodeAgreementProposeBody(wire({ 6: [1, [1n, 2n]] })), 'TX_INVALID_FIELD', 'tx.body.price.table');
    fails(() => decodeAgreementProposeBody(wire({ 6: [3, 1n] })), 'TX_INVALID_FIELD', 'tx.body.price');
    fails(() => decodeAgreementProposeBody(wire({ 6: [0, 0n] })), 'TX_INVALID_FIELD', 'tx.body.price');
    fails(() => decodeAgreementProposeBody(wire({ 7: 999 })), 'TX_INVALID_FIELD', 'tx.body.collateralBps');
    fails(() => decodeAgreementProposeBody(encode([1, ADDR])), 'CODEC_WRONG_TYPE', 'tx.body');
  });

  it('refuses hostile action bodies', () => {
    fails(() => decodeAgreementRefBody(encode([new Uint8Array(31)])), 'CODEC_WRONG_TYPE', 'tx.body.id');
    fails(() => decodeAgreementDisputeBody(encode([ID, 0n, ADDR])), 'TX_INVALID_FIELD', 'tx.body.amount');
    fails(() => decodeAgreementVoteBody(encode([ID, 2, ADDR, ADDR])), 'TX_INVALID_FIELD', 'tx.body.decision');
    fails(() => decodeAgreementVoteBody(encode([ID, 0, ADDR, new Uint8Array(2)])), 'CODEC_WRONG_TYPE', 'tx.body.seller');
  });
});
