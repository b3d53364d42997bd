import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createFakeNode, makeTransfer, type FakeNode } from '../testing/fake-node.ts';
import { startRpcServer } from './http-server.ts';
import { rawRequest } from '../testing/raw-http.ts';
// The prom-client implementation of rpc/'s metrics (and the series names operators scrape) is node/'s.
import { rpcMetrics } from '../../node/metrics/parts.ts';
import { createMetrics, type JouleMetrics } from '../../node/metrics/prometheus.ts';
import { METRICS_MAX_CONNECTIONS, startMetricsServer } from './metrics-server.ts';
import type { HealthReport } from '../node-api.ts';

let node: FakeNode;
let metrics: JouleMetrics;
let server: { port: number; close(): Promise<void> };
let healthy: HealthReport;
let url: string;

const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }, path = '/') =>
  fetch(url + path, { method: 'POST', headers, body });
const rpc = async (method: string, params: unknown[] = []) => (await (await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }))).json()) as any;

beforeEach(async () => {
  node = createFakeNode();
  metrics = createMetrics();
  healthy = { ok: true, height: 0 };
  server = await startRpcServer({ host: '127.0.0.1', port: 0, api: node, metrics: rpcMetrics(metrics), health: () => healthy, ws: { maxSubscriptions: 2 } });
  url = `http://127.0.0.1:${server.port}`;
});
afterEach(async () => {
  await server.close();
});

describe('HTTP transport', () => {
  it('serves JSON-RPC on / and /rpc', async () => {
    expect((await rpc('joule_status')).result.chainId).toBe('joule-test');
    const r = await post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'joule_status' }), { 'content-type': 'application/json; charset=utf-8' }, '/rpc');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect(((await r.json()) as any).id).toBe(2);
  });

  it('malformed JSON -> -32700; wrong types -> -32600/-32601/-32602 with data.field', async () => {
    expect(((await (await post('{"jsonrpc":')).json()) as any).error.code).toBe(-32700);
    expect(((await (await post('{"jsonrpc":"2.0","id":1,"method":[]}')).json()) as any).error.code).toBe(-32600);
    expect(((await (await post('{"jsonrpc":2,"id":1,"method":"joule_status"}')).json()) as any).error.code).toBe(-32600);
    expect((await rpc('joule_nope')).error.code).toBe(-32601);
    const r = await rpc('joule_getBlock', [true]);
    expect(r.error).toMatchObject({ code: -32602, data: { code: 'INVALID_PARAMS', field: 'params[0]' } });
  });

  it('garbage tx bytes -> -32000 with the JouleError code', async () => {
    const r = await rpc('joule_sendRawTransaction', ['0x00ff00ff']);
    expect(r.error.code).toBe(-32000);
    expect(r.error.data.code).toMatch(/^CODEC_|^TX_/);
    expect(JSON.stringify(r)).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('oversized body -> 413 and the server keeps serving (declared length and chunked)', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'joule_sendRawTransaction', params: ['0x' + 'ab'.repeat(600 * 1024)] });
    const r = await post(big);
    expect(r.status).toBe(413);
    expect((await rpc('joule_status')).result.height).toBe(0);

    const status = await new Promise<number>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write(Buffer.alloc(128 * 1024, 0x20));
      req.end();
    });
    expect(status).toBe(413);
    expect((await rpc('joule_status')).result.height).toBe(0);
    expect(await (await fetch(url + '/metrics').catch(() => ({ status: 404 }) as Response)).status).toBe(404);
  });

  it('batch over the limit is rejected; within the limit answered', async () => {
    const batch = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'joule_status' })));
    const over = (await (await post(batch(101))).json()) as any;
    expect(over.error.code).toBe(-32600);
    const ok = (await (await post(batch(100))).json()) as any[];
    expect(ok).toHaveLength(100);
  });

  it('wrong content type -> 415, wrong method -> 405, unknown path -> 404, notification -> 204', async () => {
    expect((await post('{}', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await fetch(url + '/', { method: 'GET' })).status).toBe(405);
    expect((await fetch(url + '/nope')).status).toBe(404);
    expect((await post(JSON.stringify({ jsonrpc: '2.0', method: 'joule_status' }))).status).toBe(204);
  });

  it('CORS is off by default', async () => {
    const r = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'joule_status' }), {
      'content-type': 'application/json',
      origin: 'https://evil.example',
    });
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await fetch(url + '/', { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('/health: 200 when ok, 503 when stalled or when the check throws', async () => {
    let r = await fetch(url + '/health');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok', height: 0 });
    healthy = { ok: false, reason: 'no block for 60s' };
    r = await fetch(url + '/health');
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ status: 'unhealthy', reason: 'no block for 60s' });
  });

  it('never crashes on raw garbage on the socket', async () => {
    const net = await import('node:net');
    await new Promise<void>((resolve) => {
      const s = net.connect(server.port, '127.0.0.1', () => s.end('\u0000\u0001GARBAGE / HTTP/9\r\n\r\n'));
      s.on('close', () => resolve());
      s.on('error', () => resolve());
      s.resume();
    });
    expect((await rpc('joule_status')).result.chainId).toBe('joule-test');
  });
});

describe('WebSocket transport', () => {
  const open = async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    const inbox: any[] = [];
    const waiters: ((m: any) => void)[] = [];
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      const w = waiters.shift();
      if (w) w(m);
      else inbox.push(m);
    });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const next = (): Promise<any> => (inbox.length > 0 ? Promise.resolve(inbox.shift()) : new Promise((r) => waiters.push(r)));
    const call = async (method: string, params: unknown[], id = 1) => {
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      return next();
    };
    return { ws, next, call, inbox };
  };

  it('subscribe receives newBlocks; unsubscribe stops them', async () => {
    const c = await open();
    const sub = await c.call('joule_subscribe', ['newBlocks']);
    expect(sub.result).toMatch(/^0x[0-9a-f]{32}$/);
    const sb = node.commit();
    const note = await c.next();
    expect(note).toMatchObject({
      jsonrpc: '2.0',
      method: 'joule_subscription',
      params: { subscription: sub.result, result: { height: 1, txCount: 0, transactions: [] } },
    });
    expect(note.params.result.hash).toBe('0x' + Buffer.from(sb.hash).toString('hex'));
    expect((await c.call('joule_unsubscribe', [sub.result])).result).toBe(true);
    expect((await c.call('joule_unsubscribe', [sub.result])).result).toBe(false);
    node.commit();
    expect((await c.call('joule_status', [])).result.height).toBe(2); // answered, and no notification before it
    expect(c.inbox).toHaveLength(0);
    c.ws.close();
  });

  it('ordinary methods work over WS; bad input answered; subscription limit enforced', async () => {
    const c = await open();
    c.ws.send('{not json');
    expect((await c.next()).error.code).toBe(-32700);
    expect((await c.call('joule_subscribe', ['pendingTxs'])).error).toMatchObject({ code: -32602, data: { field: 'params[0]' } });
    await c.call('joule_subscribe', ['newBlocks']);
    await c.call('joule_subscribe', ['newBlocks']);
    const third = await c.call('joule_subscribe', ['newBlocks']);
    expect(third.error).toMatchObject({ code: -32000, data: { code: 'RATE_LIMITED' } });
    c.ws.close();
  });

  it('refuses upgrades on other paths and from browser origins when CORS is off', async () => {
    const bad = new WebSocket(`ws://127.0.0.1:${server.port}/other`);
    await expect(new Promise((_, reject) => bad.once('error', reject))).rejects.toThrow(/404/);
    const browser = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { origin: 'https://evil.example' });
    await expect(new Promise((_, reject) => browser.once('error', reject))).rejects.toThrow(/403/);
  });

  it('closes a slow consumer instead of buffering without bound', async () => {
    await server.close();
    server = await startRpcServer({ host: '127.0.0.1', port: 0, api: node, metrics: rpcMetrics(metrics), ws: { maxBufferedBytes: 1024 * 1024 } });
    const c = await open();
    await c.call('joule_subscribe', ['newBlocks']);
    const closed = new Promise<number>((r) => c.ws.once('close', (code) => r(code)));
    // Stop reading so the kernel buffers and then the server's send buffer fill up; each
    // notification lists 1000 tx hashes (~68 KB), 600 of them far exceed what loopback absorbs.
    (c.ws as any)._socket.pause();
    const tx = makeTransfer(node.alice.seed, 0, new Uint8Array(20), 1n);
    const txs = Array.from({ length: 1000 }, () => tx);
    for (let i = 0; i < 600 && c.ws.readyState === WebSocket.OPEN; i++) node.commit(txs);
    (c.ws as any)._socket.resume();
    // 1013 if the close frame got through before the server's forced terminate, else 1006.
    expect([1013, 1006]).toContain(await closed);
    expect(c.inbox.length).toBeLessThan(600);
  });

  it('refuses requests beyond the in-flight limit instead of queueing them', async () => {
    await server.close();
    server = await startRpcServer({ host: '127.0.0.1', port: 0, api: node, metrics: rpcMetrics(metrics), ws: { maxInFlight: 0 } });
    const c = await open();
    expect((await c.call('joule_status', [])).error).toMatchObject({ code: -32000, data: { code: 'RATE_LIMITED' } });
    c.ws.close();
  });

  it('close() unsubscribes from the node', async () => {
    expect(node.listenerCount()).toBe(1);
    await server.close();
    expect(node.listenerCount()).toBe(0);
    server = await startRpcServer({ host: '127.0.0.1', port: 0, api: node });
  });
});

describe('metrics server', () => {
  it('exposes the metric names, counts rejections, and serves /health', async () => {
    const m = await startMetricsServer({ host: '127.0.0.1', port: 0, metrics: metrics.registry, health: () => healthy });
    try {
      await post('{bad');
      await rpc('joule_getAccount', ['nope']);
      await rpc('joule_sendRawTransaction', ['0x01']);
      metrics.chainHeight.set(7);
      const r = await fetch(`http://127.0.0.1:${m.port}/metrics`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/text\/plain/);
      const text = await r.text();
      for (const name of [
        'joule_chain_height',
        'joule_block_interval_seconds',
        'joule_block_txs',
        'joule_txs_committed_total',
        'joule_mempool_size',
        'joule_mempool_bytes',
        'joule_rejections_total',
        'joule_rpc_request_duration_seconds',
        'joule_rpc_requests_total',
        'joule_peers',
        'joule_consensus_round',
        'joule_consensus_round_changes_total',
        'joule_evidence_total',
        'joule_sync_target_height',
        'process_cpu_seconds_total',
      ]) {
        expect(text).toContain(`# TYPE ${name} `);
      }
      expect(text).toContain('joule_chain_height 7');
      expect(text).toContain('joule_rejections_total{code="PARSE_ERROR",source="rpc"} 1');
      expect(text).toContain('joule_rejections_total{code="INVALID_PARAMS",source="rpc"} 1');
      expect(text).toMatch(/joule_rejections_total\{code="CODEC_[A-Z_]+",source="rpc"\} 1/);
      expect((await fetch(`http://127.0.0.1:${m.port}/health`)).status).toBe(200);
      healthy = { ok: false };
      expect((await fetch(`http://127.0.0.1:${m.port}/health`)).status).toBe(503);
      expect((await fetch(`http://127.0.0.1:${m.port}/nope`)).status).toBe(404);
    } finally {
      await m.close();
    }
  });

  it('many scrapers at once cost the node one or two collections, and more connections than a scraper needs are refused', async () => {
    let collections = 0;
    const source = {
      contentType: 'text/plain; version=0.0.4',
      async metrics() {
        collections++;
        await new Promise((r) => setTimeout(r, 50));
        return `joule_chain_height ${collections}\n`;
      },
    };
    const m = await startMetricsServer({ host: '127.0.0.1', port: 0, metrics: source, health: () => healthy });
    const held: Socket[] = [];
    try {
      const url = `http://127.0.0.1:${m.port}/metrics`;
      const answers = await Promise.all(Array.from({ length: 40 }, () => fetch(url).then((r) => r.text())));
      // Those that arrive while the first collection runs share the next one.
      expect(collections).toBeLessThanOrEqual(2);
      expect(answers.every((a) => /^joule_chain_height [12]\n$/.test(a))).toBe(true);
      for (let i = 0; i < METRICS_MAX_CONNECTIONS; i++) {
        const socket = connect(m.port, '127.0.0.1');
        held.push(socket);
        await new Promise((r) => socket.once('connect', r));
      }
      await expect(rawRequest(m.port, { method: 'GET', path: '/metrics' })).rejects.toThrow(/ECONNRESET|socket hang up|EPIPE/);
    } finally {
      for (const socket of held) socket.destroy();
      await m.close();
    }
  });
});
