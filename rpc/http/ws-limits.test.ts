/**
 * Issue 8, finding 1: 800 connections x 32 `newBlocks` subscriptions that never read, then a
 * 10,000-tx block, ran the node out of heap: each subscription's notification was buffered
 * as its own copy. Real WebSocket clients on loopback against the real server.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { rawRequest } from '../testing/raw-http.ts';
import type { NodeApi } from '../node-api.ts';
import { createFakeNode, makeTransfer, type FakeNode } from '../testing/fake-node.ts';
import { startRpcServer } from './http-server.ts';
import { defaultMaxWsConnections } from './limits.ts';
import { WS_LIMITS, wsLimits } from './ws.ts';
// The prom-client implementation of rpc/'s metrics (and the series names operators scrape) is node/'s.
import { rpcMetrics } from '../../node/metrics/parts.ts';
import { createMetrics, type JouleMetrics } from '../../node/metrics/prometheus.ts';

let node: FakeNode;
let metrics: JouleMetrics;
let server: { port: number; close(): Promise<void> } | undefined;
const clients: WebSocket[] = [];

beforeEach(() => {
  node = createFakeNode();
  metrics = createMetrics({ defaultMetrics: false });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await server?.close();
  server = undefined;
});

/** A WebSocket client with `subscriptions` newBlocks subscriptions; `localAddress` the loopback address it connects from. */
async function connect(subscriptions: number, localAddress?: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${server!.port}/ws`, { localAddress });
  clients.push(ws);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  if (subscriptions === 0) return ws;
  let answered = 0;
  const done = new Promise<void>((resolve) => {
    const onMessage = (): void => {
      if (++answered === subscriptions) {
        ws.off('message', onMessage);
        resolve();
      }
    };
    ws.on('message', onMessage);
  });
  for (let i = 0; i < subscriptions; i++) ws.send(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'joule_subscribe', params: ['newBlocks'] }));
  await done;
  return ws;
}

/** A client that stops reading: the kernel buffers fill, then the server's send buffer. */
const stopReading = (ws: WebSocket): void => void (ws as unknown as { _socket: { pause(): void } })._socket.pause();

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** Memory the process holds for JS: heap and buffers (queued socket writes live in one or the other). */
function heldBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('WebSocket subscribers: memory bounded all together (issue 8, finding 1)', () => {
  it('a block is encoded once for all subscribers: 20 connections x 32 subscriptions that never read hold about one copy per block', async () => {
    // Nobody is dropped here (a large per-connection limit): what is measured is the sharing.
    server = await startRpcServer({
      host: '127.0.0.1',
      port: 0,
      api: node,
      ws: { maxBufferedBytes: 1024 * 1024 * 1024, maxConnections: 100, maxConnectionsPerAddress: 100 },
    });
    const conns = await Promise.all(Array.from({ length: 20 }, () => connect(32)));
    conns.forEach(stopReading);
    const tx = makeTransfer(node.alice.seed, 0, new Uint8Array(20), 1n);
    const txs = Array.from({ length: 2000 }, () => tx);
    const before = heldBytes();
    const blocks = 4;
    for (let i = 0; i < blocks; i++) node.commit(txs);
    const held = heldBytes() - before;
    const notification = 2000 * 69; // 2,000 quoted hex tx hashes and commas: the bulk of one notification
    // One copy per subscription would be 20 x 32 x 4 x 138 KB = 353 MB, minus what the
    // kernel's socket buffers took; shared, it is 4 bodies plus 2,560 small heads.
    expect(held).toBeLessThan(blocks * notification + 40 * 1024 * 1024);
    for (const c of conns) expect(c.readyState).toBe(WebSocket.OPEN);
  });

  it('the shared notification reaches each subscription whole, under its own id', async () => {
    server = await startRpcServer({ host: '127.0.0.1', port: 0, api: node });
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    clients.push(ws);
    const inbox: any[] = [];
    ws.on('message', (d) => inbox.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify([1, 2, 3].map((id) => ({ jsonrpc: '2.0', id, method: 'joule_subscribe', params: ['newBlocks'] }))));
    while (inbox.length < 1) await new Promise((r) => setTimeout(r, 10));
    const ids = (inbox.shift() as any[]).map((r) => r.result as string);
    const sb = node.commit([makeTransfer(node.alice.seed, 0, new Uint8Array(20), 1n)]);
    while (inbox.length < 3) await new Promise((r) => setTimeout(r, 10));
    expect(inbox.map((n) => n.params.subscription)).toEqual(ids);
    for (const n of inbox) {
      expect(n).toMatchObject({
        jsonrpc: '2.0',
        method: 'joule_subscription',
        params: { result: { height: 1, txCount: 1, hash: '0x' + Buffer.from(sb.hash).toString('hex') } },
      });
    }
  });

  it('a consumer that falls behind is disconnected with close code 1013 and counted; the others keep their notifications', async () => {
    server = await startRpcServer({ host: '127.0.0.1', port: 0, api: node, metrics: rpcMetrics(metrics), ws: { maxBufferedBytes: 512 * 1024 } });
    const slow = await connect(32);
    const fast = await connect(1);
    let fastGot = 0;
    fast.on('message', () => fastGot++);
    let slowGot = 0;
    slow.on('message', () => slowGot++);
    const closed = new Promise<number>((r) => slow.once('close', (code) => r(code)));
    stopReading(slow);
    const tx = makeTransfer(node.alice.seed, 0, new Uint8Array(20), 1n);
    const txs = Array.from({ length: 1000 }, () => tx); // ~69 KB of tx hashes per notification, 2.2 MB per block for 32 subscriptions
    const blocks = 20;
    for (let i = 0; i < blocks; i++) {
      node.commit(txs);
      await new Promise((r) => setImmediate(r));
    }
    (slow as any)._socket.resume();
    // 1013 if the close frame got through before the server's forced terminate, else 1006.
    expect([1013, 1006]).toContain(await closed);
    expect(slowGot).toBeLessThan(blocks * 32);
    const text = await metrics.registry.metrics();
    expect(text).toContain('joule_rejections_total{code="SLOW_CONSUMER",source="rpc-ws"} 1');
    while (fastGot < blocks) await new Promise((r) => setTimeout(r, 10));
    expect(fast.readyState).toBe(WebSocket.OPEN);
  });

  it('connections are capped (503 beyond, counted), and the open ones are a metric', async () => {
    server = await startRpcServer({ host: '127.0.0.1', port: 0, api: node, metrics: rpcMetrics(metrics), ws: { maxConnections: 2 } });
    await connect(0);
    await connect(0);
    const third = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    clients.push(third);
    await expect(new Promise((_, reject) => third.once('error', reject))).rejects.toThrow(/503/);
    const text = await metrics.registry.metrics();
    expect(text).toContain('joule_rejections_total{code="SERVER_BUSY",source="rpc-ws"} 1');
    expect(text).toContain('joule_rpc_connections{transport="ws"} 2');
  });

  it('one address holds at most its share of the connections (429 beyond, counted); another address still connects; a closed one makes room', async () => {
    server = await startRpcServer({
      host: '127.0.0.1',
      port: 0,
      api: node,
      metrics: rpcMetrics(metrics),
      ws: { maxConnections: 10, maxConnectionsPerAddress: 2 },
    });
    const first = await connect(0);
    await connect(0);
    const third = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    clients.push(third);
    await expect(new Promise((_, reject) => third.once('error', reject))).rejects.toThrow(/429/);
    expect(await metrics.registry.metrics()).toContain('joule_rejections_total{code="RATE_LIMITED",source="rpc-ws"} 1');
    const other = await connect(1, '127.0.0.2');
    expect(other.readyState).toBe(WebSocket.OPEN);
    first.close();
    await new Promise((r) => first.once('close', r));
    // The server sees the close a moment later; until then it may still refuse.
    let again: WebSocket | undefined;
    for (let i = 0; i < 100 && again === undefined; i++) {
      again = await connect(0).catch(() => undefined);
      if (again === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    expect(again?.readyState).toBe(WebSocket.OPEN);
  });

  it("a connection's messages in flight are bounded in bytes: past maxInFlightBytes more are refused (RATE_LIMITED) until answers go out; one message is always taken", async () => {
    node.commit([]);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const api: NodeApi = { ...node, getBlockByHeight: async (h) => (await held, node.getBlockByHeight(h)) };
    server = await startRpcServer({ host: '127.0.0.1', port: 0, api, ws: { maxInFlightBytes: 300 } });
    const ws = await connect(0);
    const answers: { id: unknown; error?: { data?: { code?: string } } }[] = [];
    ws.on('message', (d) => answers.push(JSON.parse(String(d))));
    const big = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, method: 'joule_status', params: [], pad: 'x'.repeat(400) });
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'joule_getBlock', params: [1] }));
    ws.send(big(2));
    while (answers.length < 1) await new Promise((r) => setTimeout(r, 5));
    expect(answers[0]).toMatchObject({ id: null, error: { data: { code: 'RATE_LIMITED' } } });
    release();
    while (answers.length < 2) await new Promise((r) => setTimeout(r, 5));
    expect(answers[1]).toMatchObject({ id: 1 });
    // Nothing in flight now: a message larger than the bound alone is taken.
    ws.send(big(3));
    while (answers.length < 3) await new Promise((r) => setTimeout(r, 5));
    expect(answers[2]).toMatchObject({ id: 3 });
  });

  it('a handshake that fails gives its place back', async () => {
    server = await startRpcServer({ host: '127.0.0.1', port: 0, api: node, ws: { maxConnections: 10, maxConnectionsPerAddress: 1 } });
    for (let i = 0; i < 3; i++) {
      const status = await rawRequest(server.port, {
        method: 'GET',
        path: '/ws',
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13' }, // no key: ws answers 400
      });
      expect(status.status).toBe(400);
    }
    expect((await connect(0)).readyState).toBe(WebSocket.OPEN);
  });

  it('the default connection cap follows from memory: all connections at their limit take at most a quarter of it', () => {
    const perConnection = WS_LIMITS.maxBufferedBytes + WS_LIMITS.maxPayload + WS_LIMITS.maxInFlightBytes;
    for (const memory of [2, 4, 8].map((g) => g * 1024 ** 3)) {
      const n = defaultMaxWsConnections(perConnection, memory);
      expect(n * perConnection).toBeLessThanOrEqual(memory / 4);
      expect(n).toBeGreaterThanOrEqual(16);
    }
    expect(defaultMaxWsConnections(perConnection, 4 * 1024 ** 3)).toBe(170);
    expect(wsLimits().maxConnections).toBe(defaultMaxWsConnections(perConnection));
    expect(wsLimits({ maxConnections: 7 }).maxConnections).toBe(7);
    expect(wsLimits({ maxConnections: 400 }).maxConnectionsPerAddress).toBe(50);
    expect(wsLimits({ maxConnections: 400, maxConnectionsPerAddress: 3 }).maxConnectionsPerAddress).toBe(3);
  });
});
