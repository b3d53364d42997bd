import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import { formatAddress } from '../../core/keys.ts';
import type { AccountAgreementsQuery, AgreementQuery, NodeApi } from '../node-api.ts';
import { createFakeNode, rpcCaller } from '../testing/fake-node.ts';
import { agreementDetail, agreementId, AGREEMENT_INTERVAL_MS, buyer, listedAgreement, seller, validatorAddress } from '../testing/agreement-fixtures.ts';
import { INTERVAL } from '../testing/market-fixtures.ts';

const ID = `0x${toHex(agreementId)}`;
const hex = (b: Uint8Array) => `0x${toHex(b)}`;

function setup() {
  const queries: { get: AgreementQuery[]; account: AccountAgreementsQuery[] } = { get: [], account: [] };
  const node: NodeApi = {
    ...createFakeNode(),
    getAgreement: (q) => {
      queries.get.push(q);
      return toHex(q.id) === toHex(agreementId) ? agreementDetail(q.fromSlot, q.limit) : undefined;
    },
    listAccountAgreements: (q) => {
      queries.account.push(q);
      return { agreements: [listedAgreement], next: agreementId, settlementIntervalMs: AGREEMENT_INTERVAL_MS };
    },
  };
  return { call: rpcCaller(node), queries };
}

describe('agreement RPC methods', () => {
  it('joule_getAgreement: phase, terms, collateral at its level, margin call, dispute and slot settlements, each under its state key', async () => {
    const { call, queries } = setup();
    const r = (await call('joule_getAgreement', [ID])).result;
    expect(queries.get[0]).toEqual({ id: agreementId, fromSlot: 0, limit: 100 });
    expect(r).toMatchObject({
      id: ID,
      phase: 'disputed',
      proposer: 'seller',
      zone: 'NL',
      terms: {
        buyer: formatAddress(buyer),
        seller: formatAddress(seller),
        deviceId: 'pv-0',
        quantityWh: '1000',
        firstSlotMs: INTERVAL,
        slots: 3,
        price: { kind: 'fixed', price: '200000' },
        collateralBps: 1500,
      },
      // 3 slots x 1000 Wh x 200,000 / 1000.
      contractValue: '600000',
      signedAtMs: INTERVAL - 3_000_000,
      coolingOffEndsMs: INTERVAL - 3_000_000 + 60_000,
      settledAtMs: null,
      disputeWindowEndsMs: null,
      // Level of the one slot left: ceil(200,000,000 x 1500 / 10^7) = 30,000.
      collateral: { buyer: '90000', seller: '36000', level: '30000' },
      marginCall: { buyer: null, seller: INTERVAL + 3_600_000 },
      settledSlots: 2,
      remainingValue: '200000000',
      deliveredWh: '1600',
      paid: '320000',
      stateKey: `0x2101${toHex(agreementId)}`,
      disputeKey: `0x2105${toHex(agreementId)}`,
      nextSlot: null,
    });
    expect(r.dispute).toEqual({
      claimant: 'buyer',
      frozen: '50000',
      deposit: '500',
      openedAtMs: INTERVAL + 2_000_000,
      resume: 'executing',
      votesBuyer: [formatAddress(validatorAddress)],
      votesSeller: [],
      decidedFor: null,
      fee: '0',
    });
    expect(r.settlements).toEqual([
      {
        slot: 0,
        intervalStartMs: INTERVAL,
        meteredWh: '1000',
        deliveredWh: '1000',
        price: '200000',
        payment: '200000',
        penalty: '0',
        overCharge: '0',
        utxo: hex(new Uint8Array(32).fill(0xe0)),
        height: 20,
        stateKey: `0x2104${toHex(agreementId)}00000000`,
      },
      expect.objectContaining({ slot: 1, intervalStartMs: INTERVAL + AGREEMENT_INTERVAL_MS, deliveredWh: '600', penalty: '4000' }),
    ]);
  });

  it('joule_getAgreement pages the settlements by slot; an unknown id is null; bad params are -32602 naming the field', async () => {
    const { call, queries } = setup();
    const first = (await call('joule_getAgreement', [ID, { limit: 1 }])).result;
    expect(first.settlements.map((s: { slot: number }) => s.slot)).toEqual([0]);
    expect(first.nextSlot).toBe(1);
    const rest = (await call('joule_getAgreement', [ID, { fromSlot: 1, limit: 1 }])).result;
    expect(queries.get[1]).toEqual({ id: agreementId, fromSlot: 1, limit: 1 });
    expect(rest.settlements.map((s: { slot: number }) => s.slot)).toEqual([1]);
    expect(rest.nextSlot).toBeNull();
    expect((await call('joule_getAgreement', [`0x${'00'.repeat(32)}`])).result).toBeNull();
    const field = async (params: unknown[]) => (await call('joule_getAgreement', params)).error.data;
    expect(await field(['0x0102'])).toMatchObject({ code: 'INVALID_PARAMS', field: 'params[0]' });
    expect(await field([ID, { limit: 0 }])).toMatchObject({ field: 'params[1].limit' });
    expect(await field([ID, { fromSlot: -1 }])).toMatchObject({ field: 'params[1].fromSlot' });
    expect(await field([ID, { slot: 1 }])).toMatchObject({ field: 'params[1].slot' });
    expect(await field([ID, 5])).toMatchObject({ field: 'params[1]' });
  });

  it("joule_getAccountAgreements: an account's agreements with the index entry that listed each, and the cursor", async () => {
    const { call, queries } = setup();
    const r = (await call('joule_getAccountAgreements', [{ account: formatAddress(seller), limit: 5, cursor: ID }])).result;
    expect(queries.account[0]).toEqual({ account: seller, limit: 5, after: agreementId });
    expect(r.agreements).toHaveLength(1);
    expect(r.agreements[0]).toMatchObject({ id: ID, phase: 'disputed', indexKey: `0x2102${toHex(seller)}${toHex(agreementId)}` });
    expect(r.agreements[0].dispute).toBeUndefined();
    expect(r.nextCursor).toBe(ID);
    const field = async (params: unknown[]) => (await call('joule_getAccountAgreements', params)).error.data;
    expect(await field([{ account: 'nope' }])).toMatchObject({ field: 'params[0].account' });
    expect(await field([{ account: formatAddress(seller), cursor: '0x01' }])).toMatchObject({ field: 'params[0].cursor' });
    expect(await field([{ account: formatAddress(seller), limit: 101 }])).toMatchObject({ field: 'params[0].limit' });
    expect(await field([null])).toMatchObject({ field: 'params[0]' });
  });

  it('a node that does not serve agreements answers UNAVAILABLE', async () => {
    const call = rpcCaller(createFakeNode());
    expect((await call('joule_getAgreement', [ID])).error).toMatchObject({ code: -32000, data: { code: 'UNAVAILABLE' } });
    expect((await call('joule_getAccountAgreements', [{ account: formatAddress(seller) }])).error).toMatchObject({ code: -32000 });
  });
});
