import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { formatAddress } from '../core/keys.ts';
import { encryptKey } from '../core/keystore.ts';
import { emptyMarket, type MarketRecord } from '../core/market.ts';
import type { ListedTrade } from '../core/market-query.ts';
import { marketBucketKey, MarketBucket, marketId, marketKey } from '../core/state-keys.ts';
import { decodeOrderCancelBody } from '../core/tx/order-cancel.ts';
import { decodeOrderPlaceBody } from '../core/tx/order-place.ts';
import { TxType } from '../core/tx/types.ts';
import { decodeTx } from '../core/tx.ts';
import { startRpcServer, type RunningServer } from '../rpc/http/http-server.ts';
import type { AccountTradesQuery, NodeApi, OrderBookQuery } from '../rpc/node-api.ts';
import { createFakeNode, type FakeNode } from '../rpc/testing/fake-node.ts';
import { askId, bidId, buyer, clearedMarket, INTERVAL, seller, settledTrade } from '../rpc/testing/market-fixtures.ts';
import { runCliInProcess as cli } from './testing/run-in-process.ts';

/** market order place|cancel, market result|book|trades|account, query proof market:/trade:/settlement: against rpc/'s fake node. */
let fake: FakeNode;
let server: RunningServer;
let rpc: string;
const dir = mkdtempSync(join(tmpdir(), 'joule-cli-market-'));
const aliceKey = join(dir, 'alice.key');
const sender: string[] = [];
const I = INTERVAL;
// The CLI prints what the node answers: a book of three bids, and a settlement that moved no token.
const cleared: MarketRecord = { ...clearedMarket, bids: 3 };
const trade: ListedTrade = {
  ...settledTrade,
  key: new Uint8Array([0x20, 0x05]),
  settlement: { ...settledTrade.settlement!, utxoId: undefined },
  settlementKey: new Uint8Array([0x20, 0x0b]),
  indexKey: undefined,
};
const bookQueries: OrderBookQuery[] = [];
const accountQueries: AccountTradesQuery[] = [];
const proofKeys: string[] = [];

beforeAll(async () => {
  fake = createFakeNode();
  const api: NodeApi = {
    ...fake,
    getMarket: (zone) => (zone === 'NL' ? cleared : undefined),
    listOrders: (q) => {
      bookQueries.push(q);
      const id = q.side === 'bid' ? bidId : askId;
      const order = { owner: q.side === 'bid' ? buyer : seller, volumeWh: 1000n, deviceId: q.side === 'bid' ? undefined : 'pv-0', locked: 300n };
      return { market: { ...emptyMarket('NL', I), bids: 1, asks: 1 }, orders: [{ id, order, key: marketBucketKey(MarketBucket.bids, id) }], next: undefined };
    },
    listMarketTrades: () => ({ market: cleared, trades: [trade], next: new Uint8Array([0, 0, 0, 0]) }),
    listAccountTrades: (q) => {
      accountQueries.push(q);
      return { trades: [{ ...trade, settlement: undefined, indexKey: new Uint8Array([0x20, 0x0a]) }], next: undefined };
    },
    getProof: async (key) => {
      proofKeys.push(toHex(key));
      throw new JouleError(ErrorCode.NOT_FOUND, 'no proof here', 'key');
    },
  };
  server = await startRpcServer({ host: '127.0.0.1', port: 0, api });
  rpc = `http://127.0.0.1:${server.port}`;
  sender.push('--key', aliceKey, '--rpc', rpc);
  writeFileSync(aliceKey, JSON.stringify(await encryptKey({ type: 'ed25519', secret: fake.alice.seed, insecure: true })));
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const lastSubmitted = () => decodeTx(fake.submitted[fake.submitted.length - 1]!);

describe('joule market order', () => {
  it('place signs a type-32 tx from the options (interval as ISO 8601 or ms)', async () => {
    const args = ['--zone', 'NL', '--volume', '2000', '--price', '250000', ...sender, '--json'];
    const r = await cli(['market', 'order', 'place', '--side', 'ask', '--interval', new Date(I).toISOString(), '--device', 'pv-0', ...args]);
    expect(r.code, r.stderr).toBe(0);
    const tx = lastSubmitted();
    expect(tx.type).toBe(TxType.orderPlace);
    expect(decodeOrderPlaceBody(tx.body)).toEqual({ side: 'ask', zone: 'NL', intervalStartMs: I, volumeWh: 2000n, price: 250000n, deviceId: 'pv-0' });
    expect(JSON.parse(r.stdout)).toMatchObject({ side: 'ask', zone: 'NL', intervalStartMs: I, volumeWh: '2000', price: '250000', deviceId: 'pv-0' });
    expect((await cli(['market', 'order', 'place', '--side', 'bid', '--interval', String(I), ...args])).code).toBe(0);
    expect(decodeOrderPlaceBody(lastSubmitted().body)).toMatchObject({ side: 'bid', deviceId: undefined });
  });

  it('place refuses a bad side, volume, zone, or an ask without device, before anything is sent', async () => {
    const sent = fake.submitted.length;
    const base = ['market', 'order', 'place', '--interval', String(I), '--price', '1', ...sender];
    expect((await cli([...base, '--side', 'buy', '--zone', 'NL', '--volume', '5'])).stderr).toMatch(/^error INVALID_PARAMS: --side must be bid or ask/m);
    expect((await cli([...base, '--side', 'bid', '--zone', 'NL', '--volume', '0'])).stderr).toMatch(/^error INVALID_PARAMS: --volume must be a whole number/m);
    expect((await cli([...base, '--side', 'bid', '--zone', 'N L', '--volume', '5'])).stderr).toMatch(/^error INVALID_PARAMS: zone must be/m);
    expect((await cli([...base, '--side', 'ask', '--zone', 'NL', '--volume', '5'])).stderr).toMatch(/^error TX_INVALID_FIELD: .*an ask names the device/m);
    expect(fake.submitted.length).toBe(sent);
  });

  it('cancel signs a type-33 tx naming the order; what is not an order id is refused', async () => {
    const id = `0x${toHex(bidId)}`;
    expect((await cli(['market', 'order', 'cancel', id, ...sender])).code).toBe(0);
    const tx = lastSubmitted();
    expect(tx.type).toBe(TxType.orderCancel);
    expect(decodeOrderCancelBody(tx.body).orderId).toEqual(bidId);
    expect((await cli(['market', 'order', 'cancel', '0x0102', ...sender])).stderr).toMatch(/^error INVALID_PARAMS: 0x0102 is not an order id/m);
  });
});

describe('joule market reads', () => {
  it('result: the clearing price and volume, with the key to prove them; an unknown market is NOT_FOUND', async () => {
    const r = await cli(['market', 'result', 'NL', String(I), '--rpc', rpc]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('status      cleared');
    expect(r.stdout).toContain('price       200 per kWh (last matched bid 300, ask 100)');
    expect(r.stdout).toContain('traded      1000 Wh in 1 trade(s)');
    expect(r.stdout).toContain(`joule query proof market:NL@${I}`);
    const none = await cli(['market', 'result', 'BE', String(I), '--rpc', rpc]);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/^error NOT_FOUND/m);
  });

  it('book: both sides by default, one with --side and --limit', async () => {
    bookQueries.length = 0;
    const r = await cli(['market', 'book', 'NL', String(I), '--rpc', rpc]);
    expect(r.code, r.stderr).toBe(0);
    expect(bookQueries.map((q) => q.side)).toEqual(['bid', 'ask']);
    expect(r.stdout).toContain(`bid        300        1000 Wh  ${formatAddress(buyer)}  0x${toHex(bidId)}`);
    expect(r.stdout).toContain(`ask        100        1000 Wh  ${formatAddress(seller)}  pv-0  0x${toHex(askId)}`);
    const j = await cli(['market', 'book', 'NL', String(I), '--side', 'ask', '--limit', '5', '--rpc', rpc, '--json']);
    expect(bookQueries[2]).toEqual({ zone: 'NL', intervalStartMs: I, side: 'ask', limit: 5 });
    expect(JSON.parse(j.stdout).orders[0]).toMatchObject({ side: 'ask', price: '100', deviceId: 'pv-0' });
    expect((await cli(['market', 'book', 'NL', String(I), '--cursor', '0x01', '--rpc', rpc])).stderr).toMatch(/give --side too/);
  });

  it('trades and account: each trade at P with its settlement, and the cursor for more', async () => {
    const t = await cli(['market', 'trades', 'NL', String(I), '--rpc', rpc]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain(
      `NL@${I}#0      1000 Wh at 200  ${formatAddress(seller)} -> ${formatAddress(buyer)} (pv-0)  delivered 600 Wh, paid 120, penalty 4`,
    );
    expect(t.stdout).toContain('(1 trade(s); more: --cursor 0x00000000)');
    const a = await cli(['market', 'account', formatAddress(seller), '--limit', '10', '--rpc', rpc]);
    expect(a.code, a.stderr).toBe(0);
    expect(accountQueries[0]).toEqual({ account: seller, limit: 10 });
    expect(a.stdout).toContain('not settled');
  });

  it('query proof asks for the state key of market:, trade: and settlement:', async () => {
    proofKeys.length = 0;
    for (const k of [`market:NL@${I}`, `trade:NL@${I}#3`, `settlement:NL@${I}#3`]) await cli(['query', 'proof', k, '--rpc', rpc]);
    const seq = '00000003';
    const m = toHex(marketId('NL', I));
    expect(proofKeys).toEqual([toHex(marketKey('NL', I)), `2005${m}${seq}`, `200b${m}${seq}`]);
    expect((await cli(['query', 'proof', `trade:NL@${I}`, '--rpc', rpc])).stderr).toMatch(/^error INVALID_PARAMS: trade:ZONE@START#SEQ needs/m);
  });
});
