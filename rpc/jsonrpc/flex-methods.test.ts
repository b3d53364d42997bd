import { describe, expect, it } from 'vitest';
import { formatAddress } from '../../core/keys.ts';
import { flexActivationKey, flexBidKey, flexIntervalKey } from '../../core/state-keys.ts';
import type { FlexPageQuery } from '../../core/flex-query.ts';
import type { NodeApi } from '../node-api.ts';
import { createFakeNode, rpcCaller } from '../testing/fake-node.ts';
import { activationId, aggregator, bidId, dso, flexActivation, flexBid, flexInterval, START } from '../testing/flex-fixtures.ts';

const h = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`;
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

function setup() {
  const queries: { who: Uint8Array; q: FlexPageQuery }[] = [];
  const node: NodeApi = {
    ...createFakeNode(),
    getFlexBid: (id) => (same(id, bidId) ? flexBid : undefined),
    getFlexActivation: (id) => (same(id, activationId) ? flexActivation : undefined),
    listFlexBids: (who, q) => {
      queries.push({ who, q });
      return { items: [{ id: bidId, bid: flexBid, key: flexBidKey(bidId) }], next: new Uint8Array([0xb1]) };
    },
    listFlexActivations: (who, q) => {
      queries.push({ who, q });
      return { items: [{ id: activationId, activation: flexActivation, key: flexActivationKey(activationId) }], next: undefined };
    },
    listFlexIntervals: (who, q) => {
      queries.push({ who, q });
      return { items: [{ intervalStartMs: START, result: flexInterval, key: flexIntervalKey(activationId, START) }], next: undefined };
    },
  };
  return { call: rpcCaller(node), queries };
}

describe('flexibility RPC methods', () => {
  it('joule_getFlexBid: the bid under its state key, or null; a malformed id is -32602 naming it', async () => {
    const { call } = setup();
    expect((await call('joule_getFlexBid', [h(bidId)])).result).toEqual({
      id: h(bidId),
      aggregator: formatAddress(aggregator),
      deviceIds: ['bat-0', 'bat-1'],
      capacityKw: 500,
      rampUpKwPerMin: 100,
      rampDownKwPerMin: 100,
      minSocPercent: 20,
      maxSocPercent: 90,
      pricePerMwh: '100000000',
      availableFromMs: START - 30_000,
      availableUntilMs: START + 300_000,
      height: 5,
      reservedUntilMs: START + 30_000,
      stateKey: `0x2201${'b1'.repeat(32)}`,
    });
    expect((await call('joule_getFlexBid', [h(activationId)])).result).toBeNull();
    expect((await call('joule_getFlexBid', ['0x1234'])).error.data).toMatchObject({ code: 'INVALID_PARAMS', field: 'params[0]' });
  });

  it('joule_getFlexActivation: status, confirmation deadline, settlement totals, a negative baseline, the command hash', async () => {
    const { call } = setup();
    expect((await call('joule_getFlexActivation', [h(activationId)])).result).toEqual({
      id: h(activationId),
      bidId: h(bidId),
      dso: formatAddress(dso),
      aggregator: formatAddress(aggregator),
      powerKw: 240,
      rampUpKwPerMin: 100,
      startMs: START,
      endMs: START + 30_000,
      pricePerMwh: '100000000',
      activatedAtMs: START - 20_000,
      confirmByMs: START + 10_000,
      height: 9,
      status: 'settled',
      confirmedAtMs: START - 12_000,
      commandHash: `0x${'c1'.repeat(32)}`,
      escrow: '0',
      baselineWh: '-200',
      baselineIntervals: 4,
      settledIntervals: 1,
      deliveredWh: '1400',
      paid: '140000',
      penalty: '3000',
      stateKey: `0x2202${'a1'.repeat(32)}`,
    });
    expect((await call('joule_getFlexActivation', [h(bidId)])).result).toBeNull();
  });

  it('the listings pass their owner, limit and cursor through, and answer pages with cursors', async () => {
    const { call, queries } = setup();
    const bids = (await call('joule_listFlexBids', [{ aggregator: formatAddress(aggregator), limit: 5, cursor: '0x01' }])).result;
    expect(queries[0]).toEqual({ who: aggregator, q: { limit: 5, after: new Uint8Array([1]) } });
    expect(bids.bids.map((b: { id: string }) => b.id)).toEqual([h(bidId)]);
    expect(bids.nextCursor).toBe('0xb1');
    const acts = (await call('joule_listFlexActivations', [{ bidId: h(bidId) }])).result;
    expect(queries[1]).toEqual({ who: bidId, q: { limit: 100 } });
    expect(acts).toMatchObject({ activations: [{ id: h(activationId), status: 'settled' }], nextCursor: null });
    const intervals = (await call('joule_listFlexIntervals', [{ activationId: h(activationId) }])).result;
    expect(intervals.intervals).toEqual([
      {
        intervalStartMs: START,
        meteredWh: '1200',
        baselineWh: '-200',
        targetWh: '2000',
        deliveredWh: '1400',
        payment: '140000',
        penaltyDue: '3000',
        penalty: '3000',
        height: 12,
        stateKey: h(flexIntervalKey(activationId, START)),
      },
    ]);
  });

  it('hostile queries are -32602 naming the field; a node without flexibility answers UNAVAILABLE', async () => {
    const { call } = setup();
    expect((await call('joule_listFlexBids', [{ aggregator: 'joule1nope' }])).error.data).toMatchObject({ field: 'params[0].aggregator' });
    expect((await call('joule_listFlexBids', [{ aggregator: formatAddress(aggregator), limit: 0 }])).error.data).toMatchObject({ field: 'params[0].limit' });
    expect((await call('joule_listFlexActivations', [{ bidId: h(bidId), cursor: `0x${'00'.repeat(41)}` }])).error.data).toMatchObject({
      field: 'params[0].cursor',
    });
    expect((await call('joule_listFlexActivations', [{ bidId: h(bidId), zone: 'NL' }])).error.data).toMatchObject({ field: 'params[0].zone' });
    expect((await call('joule_listFlexIntervals', [[]])).error.data).toMatchObject({ field: 'params[0]' });
    const bare = rpcCaller(createFakeNode());
    expect((await bare('joule_getFlexBid', [h(bidId)])).error.data).toMatchObject({ code: 'UNAVAILABLE' });
  });
});
