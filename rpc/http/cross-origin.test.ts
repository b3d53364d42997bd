/**
 * Issue 8, finding 5: a POST without Content-Type, with `Origin: http://evil.example`,
 * executed joule_sendRawTransaction (200, tx admitted), and the Host header was not checked
 * (DNS rebinding). Real HTTP and WebSocket requests on loopback against the real server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { toHex } from '../../core/bytes.ts';
import { createFakeNode, makeTransfer, type FakeNode } from '../testing/fake-node.ts';
import { rawRequest, rpcBody } from '../testing/raw-http.ts';
import { startRpcServer, type RpcServerOptions } from './http-server.ts';
import { checkContentType, checkHost, checkOrigin, hostName, hostPolicy } from './request-guard.ts';
// The prom-client implementation of rpc/'s metrics (and the series names operators scrape) is node/'s.
import { rpcMetrics } from '../../node/metrics/parts.ts';
import { createMetrics, type JouleMetrics } from '../../node/metrics/prometheus.ts';

let node: FakeNode;
let metrics: JouleMetrics;
let server: { port: number; close(): Promise<void> } | undefined;

async function start(opts: Partial<RpcServerOptions> = {}): Promise<number> {
  node = createFakeNode();
  metrics = createMetrics({ defaultMetrics: false });
  server = await startRpcServer({ host: '127.0.0.1', port: 0, api: node, metrics: rpcMetrics(metrics), ...opts });
  return server.port;
}
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const sendTx = () => rpcBody('joule_sendRawTransaction', ['0x' + toHex(makeTransfer(node.alice.seed, 0, new Uint8Array(20).fill(1), 5n).bytes)]);
const rejections = async (code: string) => {
  const m = (await metrics.registry.metrics()).match(new RegExp(`joule_rejections_total\\{code="${code}",source="rpc"\\} (\\d+)`));
  return m === null ? 0 : Number(m[1]);
};

describe('cross-origin writes (issue 8, finding 5)', () => {
  it('a POST without Content-Type from another origin is refused and runs nothing', async () => {
    const port = await start();
    const r = await rawRequest(port, { headers: { origin: 'http://evil.example' }, body: sendTx() });
    expect(r.status).toBe(403);
    expect(r.json.error.data).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED', field: 'Origin' });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(node.submitted).toHaveLength(0);
    expect(await rejections('ORIGIN_NOT_ALLOWED')).toBe(1);
  });

  it('POST requires Content-Type application/json (415 otherwise, nothing run); a charset is fine', async () => {
    const port = await start();
    for (const headers of [
      {} as Record<string, string>,
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'multipart/form-data; boundary=x' },
    ]) {
      const r = await rawRequest(port, { headers, body: sendTx() });
      expect(r.status).toBe(415);
      expect(r.json.error.data).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', field: 'Content-Type' });
    }
    expect(node.submitted).toHaveLength(0);
    expect(await rejections('UNSUPPORTED_MEDIA_TYPE')).toBe(4);
    const ok = await rawRequest(port, { headers: { 'content-type': 'Application/JSON; charset=utf-8' }, body: sendTx() });
    expect(ok.status).toBe(200);
    expect(ok.json.result.hash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(node.submitted).toHaveLength(1);
  });

  it('an origin in rpc.corsOrigins is served with CORS headers, its preflight granted; others are refused, preflight too', async () => {
    const port = await start({ corsOrigins: ['https://app.example'] });
    const json = { 'content-type': 'application/json' };
    const ok = await rawRequest(port, { headers: { ...json, origin: 'https://app.example' }, body: rpcBody('joule_status') });
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
    const pre = await rawRequest(port, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-headers']).toBe('content-type');
    const evilPre = await rawRequest(port, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.evil.example', 'access-control-request-method': 'POST' },
    });
    expect(evilPre.status).toBe(403);
    expect(evilPre.headers['access-control-allow-origin']).toBeUndefined();
    const evil = await rawRequest(port, { headers: { ...json, origin: 'null' }, body: sendTx() });
    expect(evil.status).toBe(403);
    expect(node.submitted).toHaveLength(0);
    // Clients that are not browsers send no Origin and are served as before.
    expect((await rawRequest(port, { headers: json, body: sendTx() })).status).toBe(200);
  });

  it('a browser WebSocket upgrade from an origin not allowed is refused; an allowed one is served', async () => {
    const port = await start({ corsOrigins: ['https://app.example'] });
    const evil = new WebSocket(`ws://127.0.0.1:${port}/ws`, { origin: 'http://evil.example' });
    await expect(new Promise((_, reject) => evil.once('error', reject))).rejects.toThrow(/403/);
    const app = new WebSocket(`ws://127.0.0.1:${port}/ws`, { origin: 'https://app.example' });
    await new Promise((resolve, reject) => {
      app.once('open', resolve);
      app.once('error', reject);
    });
    app.close();
  });
});

describe('Host allow-list against DNS rebinding (issue 8, finding 5)', () => {
  const json = { 'content-type': 'application/json' };

  it('a name not in rpc.hosts gets 403 for RPC, /health and WebSocket; localhost, IP addresses and the bind name are served', async () => {
    const port = await start();
    const evil = await rawRequest(port, { headers: { ...json, host: `evil.example:${port}` }, body: sendTx() });
    expect(evil.status).toBe(403);
    expect(evil.json.error.data).toMatchObject({ code: 'HOST_NOT_ALLOWED', field: 'Host' });
    expect(node.submitted).toHaveLength(0);
    expect((await rawRequest(port, { method: 'GET', path: '/health', headers: { host: 'evil.example' } })).status).toBe(403);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { host: `evil.example:${port}` } });
    await expect(new Promise((_, reject) => ws.once('error', reject))).rejects.toThrow(/403/);
    expect(await rejections('HOST_NOT_ALLOWED')).toBe(3);
    for (const host of [`localhost:${port}`, 'LOCALHOST.', `127.0.0.1:${port}`, `[::1]:${port}`, `10.1.2.3:${port}`]) {
      expect((await rawRequest(port, { headers: { ...json, host }, body: rpcBody('joule_status') })).status).toBe(200);
    }
  });

  it("rpc.hosts replaces the default list; '*' accepts any host", async () => {
    let port = await start({ hosts: ['rpc.dso.example'] });
    expect((await rawRequest(port, { headers: { ...json, host: 'rpc.dso.example' }, body: rpcBody('joule_status') })).status).toBe(200);
    expect((await rawRequest(port, { headers: { ...json, host: 'localhost' }, body: rpcBody('joule_status') })).status).toBe(403);
    await server!.close();
    port = await start({ hosts: ['*'] });
    expect((await rawRequest(port, { headers: { ...json, host: 'anything.example' }, body: rpcBody('joule_status') })).status).toBe(200);
  });

  it('the checks, one by one', () => {
    expect(['Example.COM:80', '[::1]:8545', '::1', 'rpc.example.', 'host'].map(hostName)).toEqual(['example.com', '::1', '::1', 'rpc.example', 'host']);
    const policy = hostPolicy(undefined, 'node1.internal');
    expect(checkHost('node1.internal:26601', policy)).toBeUndefined();
    expect(checkHost('localhost', policy)).toBeUndefined();
    expect(checkHost(undefined, policy)?.code).toBe('HOST_NOT_ALLOWED');
    expect(checkHost('evil.example', hostPolicy(undefined, '0.0.0.0'))?.code).toBe('HOST_NOT_ALLOWED');
    expect(checkOrigin(undefined, [])).toBeUndefined();
    expect(checkOrigin('https://a.example', ['*'])).toBeUndefined();
    expect(checkOrigin('https://a.example', ['https://b.example'])?.code).toBe('ORIGIN_NOT_ALLOWED');
    expect(checkContentType('application/json;charset=UTF-8')).toBeUndefined();
    expect(checkContentType(undefined)?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});
