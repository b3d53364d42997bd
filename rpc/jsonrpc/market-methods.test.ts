import { describe, expect, it } from 'vitest';
import { formatAddress } from '../../core/keys.ts';
import { emptyMarket } from '../../core/market.ts';
import { marketBucketKey, marketKey, MarketBucket } from '../../core/state-keys.ts';
import type { AccountTradesQuery, MarketTradesQuery, NodeApi, OrderBookQuery } from '../node-api.ts';
import { createFakeNode, rpcCaller } from '../testing/fake-node.ts';
import { askId, bidId, buyer, clearedMarket, INTERVAL, seller, settledTrade } from '../testing/market-fixtures.ts';

const I = INTERVAL;
const cleared = clearedMarket;
const trade = settledTrade;

function setup() {
  const queries: { book: OrderBookQuery[]; market: MarketTradesQuery[]; account: AccountTradesQuery[] } = { book: [], market: [], account: [] };
  const node: NodeApi = {
    ...createFakeNode(),
    getMarket: (zone, start) => (zone === 'NL' && start === I ? cleared : undefined),
    listOrders: (q) => {
      queries.book.push(q);
      const o = { id: bidId, order: { owner: buyer, volumeWh: 1000n, deviceId: undefined, locked: 300n }, key: marketBucketKey(MarketBucket.bids, bidId) };
      return { market: { ...emptyMarket('NL', I), bids: 1 }, orders: [o], next: new Uint8Array([9]) };
    },
    listMarketTrades: (q) => {
      queries.market.push(q);
      return { market: cleared, trades: [{ ...trade, indexKey: undefined }], next: undefined };
    },
    listAccountTrades: (q) => {
      queries.account.push(q);
      return { trades: [trade], next: undefined };
    },
  };
  return { call: rpcCaller(node), queries };
}

const tradeJson = {
  zone: 'NL',
  intervalStartMs: I,
  seq: 0,
  bidId: `0x${Buffer.from(bidId).toString('hex')}`,
  askId: `0x${Buffer.from(askId).toString('hex')}`,
  buyer: formatAddress(buyer),
  seller: formatAddress(seller),
  deviceId: 'pv-0',
  volumeWh: '1000',
  price: '200',
  stateKey: '0x200501',
  settlement: { deliveredWh: '600', payment: '120', penalty: '4', utxo: `0x${'ee'.repeat(32)}`, height: 12 },
  settlementKey: '0x200b01',
};

describe('market RPC methods', () => {
  it('joule_getMarket: the clearing result under its state key, or null; a bad zone or interval is -32602 naming it', async () => {
    const { call } = setup();
    expect((await call('joule_getMarket', ['NL', I])).result).toEqual({
      zone: 'NL',
      intervalStartMs: I,
      status: 'cleared',
      bids: 1,
      asks: 1,
      trades: 1,
      recorded: 1,
      volumeWh: '1000',
      price: '200',
      lastBidPrice: '300',
      lastAskPrice: '100',
      stateKey: `0x${Buffer.from(marketKey('NL', I)).toString('hex')}`,
    });
    expect((await call('joule_getMarket', ['NL', String(I)])).result).toMatchObject({ price: '200' });
    expect((await call('joule_getMarket', ['BE', I])).result).toBeNull();
    expect((await call('joule_getMarket', ['N L', I])).error.data).toMatchObject({ code: 'INVALID_PARAMS', field: 'params[0]' });
    expect((await call('joule_getMarket', ['NL', -1])).error.data).toMatchObject({ code: 'INVALID_PARAMS', field: 'params[1]' });
  });

  it('joule_getOrderBook: one side of the book with each order decoded from its id, and the cursor passed through', async () => {
    const { call, queries } = setup();
    const r = (await call('joule_getOrderBook', [{ zone: 'NL', intervalStartMs: I, side: 'bid', limit: 10, cursor: '0x0102' }])).result;
    expect(queries.book[0]).toEqual({ zone: 'NL', intervalStartMs: I, side: 'bid', limit: 10, after: new Uint8Array([1, 2]) });
    expect(r.market).toMatchObject({ status: 'open', bids: 1 });
    expect(r.orders).toEqual([
      {
        id: `0x${Buffer.from(bidId).toString('hex')}`,
        side: 'bid',
        owner: formatAddress(buyer),
        volumeWh: '1000',
        price: '300',
        height: 7,
        index: 1,
        deviceId: null,
        locked: '300',
        stateKey: `0x2002${Buffer.from(bidId).toString('hex')}`,
      },
    ]);
    expect(r.nextCursor).toBe('0x09');
    expect((await call('joule_getOrderBook', [{ zone: 'NL', intervalStartMs: I, side: 'buy' }])).error.data).toMatchObject({ field: 'params[0].side' });
    expect((await call('joule_getOrderBook', [{ zone: 'NL', intervalStartMs: I, side: 'bid', limit: 101 }])).error.data).toMatchObject({
      field: 'params[0].limit',
    });
    expect((await call('joule_getOrderBook', [{ zone: 'NL', side: 'bid' }])).error.data).toMatchObject({ field: 'params[0].intervalStartMs' });
    expect((await call('joule_getOrderBook', [{ zone: 'NL', intervalStartMs: I, side: 'bid', price: 1 }])).error.data).toMatchObject({
      field: 'params[0].price',
    });
  });

  it('joule_getMarketTrades: the market and its trades at P with their settlements and the keys that prove them', async () => {
    const { call, queries } = setup();
    const r = (await call('joule_getMarketTrades', [{ zone: 'NL', intervalStartMs: I }])).result;
    expect(queries.market[0]).toEqual({ zone: 'NL', intervalStartMs: I, limit: 100 });
    expect(r.market).toMatchObject({ status: 'cleared', price: '200' });
    expect(r.trades).toEqual([tradeJson]);
    expect(r.nextCursor).toBeNull();
  });

  it("joule_getAccountTrades: an account's trades with the index entry that listed each", async () => {
    const { call, queries } = setup();
    const r = (await call('joule_getAccountTrades', [{ account: formatAddress(seller), limit: 5 }])).result;
    expect(queries.account[0]).toEqual({ account: seller, limit: 5 });
    expect(r).toEqual({ trades: [{ ...tradeJson, indexKey: '0x200a01' }], nextCursor: null });
    expect((await call('joule_getAccountTrades', [{ account: 'nope' }])).error.data).toMatchObject({ field: 'params[0].account' });
  });

  it('a node that does not serve markets answers UNAVAILABLE', async () => {
    const call = rpcCaller(createFakeNode());
    expect((await call('joule_getMarket', ['NL', I])).error).toMatchObject({ code: -32000, data: { code: 'UNAVAILABLE' } });
  });
});
