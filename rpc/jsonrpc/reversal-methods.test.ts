import { describe, expect, it } from 'vitest';
import { formatAddress } from '../../core/keys.ts';
import { reversalUtxoId } from '../../core/reversal.ts';
import { marketId } from '../../core/state-keys.ts';
import { putSettlement, putTrade } from '../../state/markets.ts';
import { StateOverlay } from '../../state/overlay.ts';
import { GOVERNORS_KEY, getGovernorSet, putGovernorSet, putReversal, readReversal } from '../../state/reversals.ts';
import { MemoryState } from '../../vm/testing/fixtures.ts';
import type { NodeApi } from '../node-api.ts';
import { createFakeNode, rpcCaller } from '../testing/fake-node.ts';
import { executedReversal, governors, INTERVAL, settledTrade } from '../testing/market-fixtures.ts';

const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`;

/** A state holding the fixture's trade, its settlement, the governors (k = 2) and the executed reversal, read as the node reads it. */
function setup() {
  const state = new MemoryState();
  const o = new StateOverlay(state);
  const m = marketId('NL', INTERVAL);
  putTrade(o, m, settledTrade.trade);
  putSettlement(o, m, 0, settledTrade.settlement!);
  putGovernorSet(o, { threshold: 2, governors });
  putReversal(o, executedReversal);
  state.apply(o.changes());
  const node: NodeApi = {
    ...createFakeNode(),
    getReversal: (by) => readReversal(state, by),
    getGovernors: () => ({ ...getGovernorSet(state)!, key: GOVERNORS_KEY }),
  };
  return rpcCaller(node);
}

const S = `${Buffer.from(marketId('NL', INTERVAL)).toString('hex')}00000000`;
const reversalJson = {
  id: 1,
  zone: 'NL',
  intervalStartMs: INTERVAL,
  seq: 0,
  buyer: formatAddress(settledTrade.trade.buyer),
  seller: formatAddress(settledTrade.trade.seller),
  reason: 'pv-0 meter miscalibrated',
  status: 'executed',
  approvers: [formatAddress(governors[0]!), formatAddress(governors[2]!)],
  threshold: 2,
  proposedHeight: 20,
  executedHeight: 21,
  settlement: { deliveredWh: '600', payment: '120', penalty: '4', utxo: `0x${'ee'.repeat(32)}`, height: 12 },
  returnedUtxo: hex(reversalUtxoId(executedReversal)),
  stateKey: `0x2302${S}`,
  idKey: '0x23030000000000000001',
  settlementKey: `0x200b${S}`,
};

describe('reversal RPC methods', () => {
  it('joule_getReversal: by id, with the settlement it moved back, k, and the keys that prove them; null when none', async () => {
    const call = setup();
    expect((await call('joule_getReversal', [1])).result).toEqual(reversalJson);
    expect((await call('joule_getReversal', ['1'])).result).toEqual(reversalJson);
    expect((await call('joule_getReversal', [2])).result).toBeNull();
    expect((await call('joule_getReversal', [0])).error.data).toMatchObject({ code: 'INVALID_PARAMS', field: 'params[0]' });
    expect((await call('joule_getReversal', ['x'])).error.data).toMatchObject({ code: 'INVALID_PARAMS', field: 'params[0]' });
  });

  it('joule_getSettlementReversal: the reversal of one settlement; hostile params are -32602 naming the field', async () => {
    const call = setup();
    expect((await call('joule_getSettlementReversal', [{ zone: 'NL', intervalStartMs: INTERVAL, seq: 0 }])).result).toEqual(reversalJson);
    expect((await call('joule_getSettlementReversal', [{ zone: 'NL', intervalStartMs: INTERVAL, seq: 1 }])).result).toBeNull();
    for (const [param, field] of [
      [{ zone: 'N L', intervalStartMs: INTERVAL, seq: 0 }, 'params[0].zone'],
      [{ zone: 'NL', intervalStartMs: -5, seq: 0 }, 'params[0].intervalStartMs'],
      [{ zone: 'NL', intervalStartMs: INTERVAL, seq: 2 ** 32 }, 'params[0].seq'],
      [{ zone: 'NL', intervalStartMs: INTERVAL, seq: 0, id: 1 }, 'params[0].id'],
      [[1], 'params[0]'],
    ] as const)
      expect((await call('joule_getSettlementReversal', [param])).error.data).toMatchObject({ code: 'INVALID_PARAMS', field });
  });

  it('joule_getGovernors: k and the governors under their state key', async () => {
    const call = setup();
    expect((await call('joule_getGovernors', [])).result).toEqual({ threshold: 2, governors: governors.map(formatAddress), stateKey: '0x2301' });
  });

  it('a node that does not serve reversals answers UNAVAILABLE', async () => {
    const call = rpcCaller(createFakeNode());
    expect((await call('joule_getReversal', [1])).error).toMatchObject({ code: -32000, data: { code: 'UNAVAILABLE' } });
  });
});
