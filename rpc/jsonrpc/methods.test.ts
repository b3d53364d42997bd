import { beforeEach, describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import { formatAddress } from '../../core/keys.ts';
import { createMethods } from './methods.ts';
import { createFakeNode, makeTransfer, rpcCaller, type FakeNode } from '../testing/fake-node.ts';
// The prom-client implementation of rpc/'s metrics (and the series names operators scrape) is node/'s.
import { rpcMetrics } from '../../node/metrics/parts.ts';
import { createMetrics } from '../../node/metrics/prometheus.ts';

let node: FakeNode;
let call: ReturnType<typeof rpcCaller>;

beforeEach(() => {
  node = createFakeNode();
  call = rpcCaller(node);
});

describe('methods: happy paths and shapes', () => {
  it('joule_status', async () => {
    const r = (await call('joule_status', [])).result;
    expect(r).toEqual({
      chainId: 'joule-test',
      genesisHash: '0x' + toHex(node.blocks[0]!.hash),
      nodeName: 'fake-0',
      role: 'validator',
      height: 0,
      latestBlockHash: '0x' + toHex(node.blocks[0]!.hash),
      latestBlockTime: 1_700_000_000_000,
      validatorCount: 4,
      peerCount: 3,
      mempoolSize: 0,
      syncing: false,
      syncTarget: null,
    });
    expect((await call('joule_status')).result.height).toBe(0); // params may be omitted
  });

  it('joule_getBlock by height, "latest", hash, with full transactions, and null when absent', async () => {
    const tx = makeTransfer(node.alice.seed, 0, new Uint8Array(20).fill(5), 100n);
    const sb = node.commit([tx]);
    const byHeight = (await call('joule_getBlock', [1])).result;
    expect(byHeight).toMatchObject({
      hash: '0x' + toHex(sb.hash),
      height: 1,
      parentHash: '0x' + toHex(node.blocks[0]!.hash),
      timestamp: 1_700_000_001_000,
      proposer: formatAddress(node.alice.address),
      txCount: 1,
      transactions: ['0x' + toHex(tx.hash)],
    });
    expect(byHeight.certificate).toEqual({
      height: 1,
      round: 0,
      blockHash: '0x' + toHex(sb.hash),
      aggregateSignature: '0x' + '09'.repeat(96),
      signers: '0x0d',
      signerIndexes: [0, 2, 3],
    });
    expect(byHeight.parentCertificate.blockHash).toBe('0x' + toHex(node.blocks[0]!.hash));
    for (const k of ['txRoot', 'stateRoot', 'receiptsRoot', 'validatorSetHash']) expect(byHeight[k]).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await call('joule_getBlock', ['latest'])).result).toEqual(byHeight);
    expect((await call('joule_getBlock', ['0x' + toHex(sb.hash)])).result).toEqual(byHeight);
    expect((await call('joule_getBlock', ['1'])).result).toEqual(byHeight);
    const full = (await call('joule_getBlock', [1, true])).result;
    expect(full.transactions[0]).toMatchObject({ hash: '0x' + toHex(tx.hash), typeName: 'transfer', blockHeight: 1, index: 0 });
    expect((await call('joule_getBlock', [99])).result).toBeNull();
    expect((await call('joule_getBlock', ['0x' + '00'.repeat(32)])).result).toBeNull();
  });

  it('joule_getTransaction with receipt and inclusion height; null when unknown', async () => {
    const tx = makeTransfer(node.alice.seed, 0, new Uint8Array(20).fill(5), 100n);
    const sb = node.commit([tx]);
    const r = (await call('joule_getTransaction', ['0x' + toHex(tx.hash)])).result;
    expect(r).toEqual({
      hash: '0x' + toHex(tx.hash),
      chainId: 'joule-test',
      type: 1,
      typeName: 'transfer',
      from: formatAddress(node.alice.address),
      sender: '0x' + toHex(node.alice.publicKey),
      nonce: 0,
      fee: '10',
      body: { to: formatAddress(new Uint8Array(20).fill(5)), amount: '100' },
      signature: '0x' + toHex(tx.signature),
      blockHeight: 1,
      blockHash: '0x' + toHex(sb.hash),
      index: 0,
      receipt: { success: true, code: '', feePaid: '10', events: [{ type: 'transfer', attributes: { amount: '100', ['__proto__']: 'x' } }] },
    });
    expect(Object.keys(r.receipt.events[0].attributes)).toEqual(['amount', '__proto__']);
    expect((await call('joule_getTransaction', ['0x' + '11'.repeat(32)])).result).toBeNull();
  });

  it('joule_getAccount: known and unknown (empty) accounts, amounts as strings', async () => {
    const a = formatAddress(node.alice.address);
    expect((await call('joule_getAccount', [a])).result).toEqual({
      address: a,
      nonce: 0,
      pendingNonce: 0,
      balance: '100000000000000000000',
      locked: '5',
      roles: ['dso'],
    });
    const b = formatAddress(new Uint8Array(20).fill(3));
    expect((await call('joule_getAccount', [b])).result).toEqual({ address: b, nonce: 0, pendingNonce: 0, balance: '0', locked: '0', roles: [] });
  });

  it('joule_sendRawTransaction returns the hash', async () => {
    const tx = makeTransfer(node.alice.seed, 0, new Uint8Array(20).fill(5), 1n);
    expect((await call('joule_sendRawTransaction', ['0x' + toHex(tx.bytes)])).result).toEqual({ hash: '0x' + toHex(tx.hash) });
    expect(node.submitted).toHaveLength(1);
  });

  it('joule_getProof by hex key and by address (account key 0x01 || address), at a height', async () => {
    const a = formatAddress(node.alice.address);
    const r = (await call('joule_getProof', [a])).result;
    expect(r.key).toBe('0x01' + toHex(node.alice.address));
    expect(r).toMatchObject({ height: 0, value: '0xaa' });
    expect(r.proof).toMatch(/^0x[0-9a-f]+$/);
    expect(r.stateRoot).toBe('0x' + '02'.repeat(32));
    const absent = (await call('joule_getProof', ['0x01' + '33'.repeat(20), 0])).result;
    expect(absent.value).toBeNull();
    const missing = await call('joule_getProof', ['0x0102', 5]);
    expect(missing.error).toMatchObject({ code: -32000, data: { code: 'NOT_FOUND' } });
  });
});

describe('methods: invalid params name the field', () => {
  const cases: [string, unknown[], string][] = [
    ['joule_status', [1], 'params[0]'],
    ['joule_getBlock', [], 'params[0]'],
    ['joule_getBlock', [-1], 'params[0]'],
    ['joule_getBlock', [1.5], 'params[0]'],
    ['joule_getBlock', [{}], 'params[0]'],
    ['joule_getBlock', ['0x1234'], 'params[0]'],
    ['joule_getBlock', [1, 'yes'], 'params[1]'],
    ['joule_getTransaction', [42], 'params[0]'],
    ['joule_getTransaction', ['0xzz'], 'params[0]'],
    ['joule_getAccount', ['joule1notanaddress'], 'params[0]'],
    ['joule_getAccount', [12], 'params[0]'],
    ['joule_sendRawTransaction', [[1, 2]], 'params[0]'],
    ['joule_sendRawTransaction', ['0x'], 'params[0]'],
    ['joule_getProof', ['0x'], 'params[0]'],
    ['joule_getProof', ['0x01', -3], 'params[1]'],
    ['joule_getProof', ['0x01', 1, 2], 'params[2]'],
  ];
  it.each(cases)('%s %j -> -32602 on %s', async (method, params, field) => {
    const r = await call(method, params);
    expect(r.error.code).toBe(-32602);
    expect(r.error.data).toMatchObject({ code: 'INVALID_PARAMS', field });
  });

  it('by-name params are refused with field "params"', async () => {
    const r = await call('joule_getAccount', { address: 'x' });
    expect(r.error).toMatchObject({ code: -32602, data: { field: 'params' } });
  });

  it('subscribe over HTTP answers "WebSocket only"', async () => {
    const m = createMethods(node);
    const { subscriptionMethods } = await import('../http/ws.ts');
    for (const [k, v] of subscriptionMethods(32)) m.set(k, v);
    call = rpcCaller(node, { methods: m });
    const r = await call('joule_subscribe', ['newBlocks']);
    expect(r.error.code).toBe(-32601);
    expect(r.error.message).toMatch(/WebSocket/);
  });
});

describe('domain rejections', () => {
  it('garbage tx bytes -> -32000 with the JouleError code and counted in rejections', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    call = rpcCaller(node, { metrics: rpcMetrics(metrics) });
    const r = await call('joule_sendRawTransaction', ['0xdeadbeef']);
    expect(r.error.code).toBe(-32000);
    expect(r.error.data.code).toMatch(/^CODEC_/);
    expect(r.error.data.message).toBeTypeOf('string');
    const text = await metrics.registry.metrics();
    expect(text).toMatch(new RegExp(`joule_rejections_total\\{code="${r.error.data.code}",source="rpc"\\} 1`));
    expect(text).toMatch(/joule_rpc_requests_total\{method="joule_sendRawTransaction",outcome="rejected"\} 1/);
  });

  it('a tx for another chain -> TX_WRONG_CHAIN with field', async () => {
    const { signTx } = await import('../../core/tx.ts');
    const { encode } = await import('../../core/codec.ts');
    const tx = signTx({ chainId: 'other', type: 1, sender: node.alice.publicKey, nonce: 0, fee: 1n, body: encode([1]) }, node.alice.seed);
    const r = await call('joule_sendRawTransaction', ['0x' + toHex(tx.bytes)]);
    expect(r.error).toMatchObject({ code: -32000, data: { code: 'TX_WRONG_CHAIN', field: 'tx.chainId' } });
  });
});

describe('cost proportional to the answer (issue 8, finding 4)', () => {
  it('joule_getBlock(h, true) reads the block once and its receipts once, never a lookup per tx, and matches joule_getTransaction', async () => {
    const txs = Array.from({ length: 50 }, (_, i) => makeTransfer(node.alice.seed, i, new Uint8Array(20).fill(5), BigInt(i + 1)));
    node.commit(txs);
    const reads: string[] = [];
    const counted = new Proxy(node, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver);
        if (typeof v !== 'function' || !['getBlockByHeight', 'getBlockByHash', 'getTransaction', 'getBlockReceipts'].includes(String(key))) return v;
        return (...args: unknown[]) => {
          reads.push(String(key));
          return v.apply(target, args);
        };
      },
    });
    call = rpcCaller(counted);
    const full = (await call('joule_getBlock', [1, true])).result;
    expect(reads).toEqual(['getBlockByHeight', 'getBlockReceipts']);
    expect(full.transactions).toHaveLength(50);
    call = rpcCaller(node);
    for (const i of [0, 17, 49]) expect(full.transactions[i]).toEqual((await call('joule_getTransaction', ['0x' + toHex(txs[i]!.hash)])).result);
  });
});
