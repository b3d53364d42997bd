/**
 * Issue 8, finding 4: unauthenticated RPC work was unbounded. 1,000 connections each sending
 * most of a 1 MiB body raised RSS from 283 MB to 1.3 GB and timed out with 400 instead of
 * 408; joule_getBlock(h, true) kept working after its client disconnected. Real sockets on
 * loopback against the real server.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { NodeApi } from '../node-api.ts';
import { createFakeNode, makeTransfer, type FakeNode } from '../testing/fake-node.ts';
import { rawRequest, rpcBody } from '../testing/raw-http.ts';
import { startRpcServer, type RpcServerOptions } from './http-server.ts';
import { BodyBudget, defaultMaxBodyBytesInFlight } from './limits.ts';
// The prom-client implementation of rpc/'s metrics (and the series names operators scrape) is node/'s.
import { rpcMetrics } from '../../node/metrics/parts.ts';
import { createMetrics, type JouleMetrics } from '../../node/metrics/prometheus.ts';

let node: FakeNode;
let metrics: JouleMetrics;
let server: { port: number; close(): Promise<void> } | undefined;
const sockets: Socket[] = [];

async function start(opts: Partial<RpcServerOptions> = {}, api?: NodeApi): Promise<number> {
  metrics = createMetrics({ defaultMetrics: false });
  server = await startRpcServer({ host: '127.0.0.1', port: 0, api: api ?? node, metrics: rpcMetrics(metrics), ...opts });
  return server.port;
}
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

const json = { 'content-type': 'application/json' };
const MiB = 1024 * 1024;

/** A raw connection that sends the head of a POST and `bodyBytes` of its declared body, then waits. */
async function partialPost(port: number, declared: number, bodyBytes: number): Promise<{ socket: Socket; answer: Promise<string>; received: () => string }> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  await new Promise<void>((r) => socket.once('connect', () => r()));
  let text = '';
  socket.on('data', (d) => (text += d.toString('latin1')));
  socket.on('error', () => {});
  const answer = new Promise<string>((r) => socket.once('close', () => r(text)));
  socket.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
  socket.write(Buffer.alloc(bodyBytes, 0x20));
  return { socket, answer, received: () => text };
}

/** `n` connections each holding a request open (the head of a POST and a byte of its body). */
async function holdConnections(port: number, n: number) {
  const held = [];
  for (let i = 0; i < n; i++) held.push(await partialPost(port, 100, 1));
  return held;
}

/** A request on a new connection, which the port closes before reading it. */
async function expectClosedAtAccept(port: number): Promise<void> {
  await expect(rawRequest(port, { headers: json, body: rpcBody('joule_status') })).rejects.toThrow(/ECONNRESET|socket hang up|EPIPE/);
}

/** The status of a request sent until one is answered (at most 2 s): the server sees a connection's close a moment after it, and until then may still refuse. */
async function servedAgain(port: number): Promise<number> {
  let status = 0;
  for (let i = 0; i < 100 && status !== 200; i++) {
    status = await rawRequest(port, { headers: json, body: rpcBody('joule_status') }).then(
      (r) => r.status,
      () => 0,
    );
    if (status !== 200) await new Promise((r) => setTimeout(r, 20));
  }
  return status;
}

const rejections = async (code: string) => {
  const m = (await metrics.registry.metrics()).match(new RegExp(`joule_rejections_total\\{code="${code}",source="rpc"\\} (\\d+)`));
  return m === null ? 0 : Number(m[1]);
};

describe('HTTP transport limits (issue 8, finding 4)', () => {
  it('a body that does not arrive in time is answered 408 REQUEST_TIMEOUT, and its connection closed', async () => {
    node = createFakeNode();
    const port = await start({ limits: { requestTimeoutMs: 400 } });
    const { answer } = await partialPost(port, 1000, 10);
    const text = await answer;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toContain('"code":"REQUEST_TIMEOUT"');
    expect(await rejections('REQUEST_TIMEOUT')).toBe(1);
  });

  it('bodies being read share one budget: past it a request gets 503 SERVER_BUSY; the budget comes back when they end', async () => {
    node = createFakeNode();
    const port = await start({ limits: { maxBodyBytesInFlight: 2 * MiB } });
    // Three clients send 900 KiB of a 1 MiB body each: whichever comes third does not fit.
    const all = await Promise.all([0, 1, 2].map(() => partialPost(port, MiB, 900 * 1024)));
    const first = await Promise.race(all.map((s, i) => s.answer.then(() => i)));
    const refused = await all[first]!.answer;
    const senders = all.filter((_, i) => i !== first);
    for (const s of senders) expect(s.socket.closed).toBe(false);
    expect(refused).toMatch(/^HTTP\/1\.1 503 /);
    expect(refused).toContain('"code":"SERVER_BUSY"');
    expect(refused.toLowerCase()).toContain('retry-after: 1');
    expect(await rejections('SERVER_BUSY')).toBe(1);
    // The two that held the budget go away without finishing: what they held is given back.
    for (const s of senders) s.socket.destroy();
    await Promise.all(senders.map((s) => s.answer));
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'joule_status', params: [], pad: ' '.repeat(MiB - 200) });
    for (let i = 0; i < 3; i++) expect((await rawRequest(port, { headers: json, body: big })).status).toBe(200);
  });

  it('a refused body gives its budget back at once, not when its connection closes', async () => {
    node = createFakeNode();
    const port = await start({ limits: { maxBodyBytesInFlight: 2 * MiB, maxBodyBytes: 4 * MiB } });
    // Together they do not fit: one of them is refused part-way, holding up to 1.5 MiB read.
    const two = await Promise.all([1500, 1000].map((kib) => partialPost(port, 3 * MiB, kib * 1024)));
    while (!two.some((s) => s.received().startsWith('HTTP/1.1 503 '))) await new Promise((r) => setTimeout(r, 5));
    // The other holds at most 1.5 MiB, so 500 KiB more fit only if the refused one's bytes came back,
    // and the refused connection is still open (draining) while this is asked.
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'joule_status', params: [], pad: ' '.repeat(500 * 1024) });
    expect((await rawRequest(port, { headers: json, body })).status).toBe(200);
    expect(await rejections('SERVER_BUSY')).toBe(1);
  });

  it('a body refused as too large is drained before its connection closes: a client still sending it reads the 413, not a reset', async () => {
    node = createFakeNode();
    const port = await start({ limits: { maxBodyBytes: MiB } });
    const declared = 3 * MiB;
    // Half-open allowed, as an HTTP client keeps sending its body after the answer's FIN.
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    sockets.push(socket);
    await new Promise<void>((r) => socket.once('connect', () => r()));
    let text = '';
    let closedByServer = false;
    const errors: Error[] = [];
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('end', () => (closedByServer = true));
    socket.on('error', (e) => errors.push(e));
    socket.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
    // The answer comes at once (the declared length is too large); only then does the client
    // send its body, as one does that was descheduled mid-write.
    while (!text.includes('BODY_TOO_LARGE')) await new Promise((r) => setTimeout(r, 5));
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    let closedWhileSending = false;
    for (let sent = 0; sent < declared; sent += 64 * 1024) {
      closedWhileSending ||= closedByServer;
      await new Promise<void>((r) => socket.write(Buffer.alloc(64 * 1024, 0x20), (e) => (e ? errors.push(e) : undefined, r())));
    }
    while (!closedByServer) await new Promise((r) => setTimeout(r, 5)); // the server closes once the body is in
    expect([closedWhileSending, errors]).toEqual([false, []]);
    expect(await rejections('BODY_TOO_LARGE')).toBe(1);
  });

  it('connections past rpc.maxConnections are closed at accept and counted; served again once others close', async () => {
    node = createFakeNode();
    const port = await start({ limits: { maxConnections: 3 } });
    const held = await holdConnections(port, 3);
    await expectClosedAtAccept(port);
    expect(await rejections('SERVER_BUSY')).toBe(1);
    held[0]!.socket.destroy();
    await held[0]!.answer;
    expect(await servedAgain(port)).toBe(200);
  });

  it('one address holds at most rpc.maxConnectionsPerAddress connections: more from it are closed at accept and counted, another address is served', async () => {
    node = createFakeNode();
    const port = await start({ limits: { maxConnections: 100, maxConnectionsPerAddress: 3 } });
    const held = await holdConnections(port, 3);
    await expectClosedAtAccept(port);
    expect(await rejections('RATE_LIMITED')).toBe(1);
    expect((await rawRequest(port, { headers: json, body: rpcBody('joule_status'), localAddress: '127.0.0.2' })).status).toBe(200);
    held[0]!.socket.destroy();
    await held[0]!.answer;
    expect(await servedAgain(port)).toBe(200);
  });

  it('by default one address may hold an eighth of the connection cap', async () => {
    node = createFakeNode();
    const port = await start({ limits: { maxConnections: 80 } });
    await holdConnections(port, 10);
    await expectClosedAtAccept(port);
    expect(await rejections('RATE_LIMITED')).toBe(1);
    expect(await rejections('SERVER_BUSY')).toBe(0);
  });

  it('pipelined requests: at most maxRequestsPerConnection of one connection are handled at once, the rest get 429 RATE_LIMITED', async () => {
    node = createFakeNode();
    node.commit([]);
    // A block read that takes a while, so the pipelined requests overlap.
    const api: NodeApi = { ...node, getBlockByHeight: async (h) => (await new Promise((r) => setTimeout(r, 200)), node.getBlockByHeight(h)) };
    const port = await start({ limits: { maxRequestsPerConnection: 4 } }, api);
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const body = rpcBody('joule_getBlock', [1]);
    const one = `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    let text = '';
    const statuses = () => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    const answered = new Promise<void>((resolve) =>
      socket.on('data', (d) => {
        text += d.toString('latin1');
        if (statuses().length === 10) resolve();
      }),
    );
    socket.write(one.repeat(10));
    await answered;
    expect(statuses()).toEqual([200, 200, 200, 200, 429, 429, 429, 429, 429, 429]);
    expect(await rejections('RATE_LIMITED')).toBe(6);
  });

  it('costly requests (whole blocks) run at most 16 at once on the port, HTTP and WebSocket together; the others wait their turn', async () => {
    node = createFakeNode();
    node.commit([]);
    let running = 0;
    let most = 0;
    const api: NodeApi = {
      ...node,
      getBlockByHeight: async (h) => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 30));
        running--;
        return node.getBlockByHeight(h);
      },
    };
    const port = await start({ ws: { maxConnectionsPerAddress: 50 } }, api);
    const viaHttp = Array.from({ length: 20 }, () =>
      rawRequest(port, { headers: json, body: rpcBody('joule_getBlock', [1]) }).then((r) => r.json.result.height),
    );
    const viaWs = Array.from({ length: 20 }, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      await new Promise((r) => ws.once('open', r));
      ws.send(rpcBody('joule_getBlock', [1]));
      const answer = await new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
      ws.close();
      return (JSON.parse(answer) as { result: { height: unknown } }).result.height;
    });
    const numbers = await Promise.all([...viaHttp, ...viaWs]);
    expect(new Set(numbers)).toEqual(new Set([1]));
    expect(most).toBe(16);
  });

  it('joule_getBlock(h, true) stops when its client disconnects', async () => {
    node = createFakeNode();
    const tx = makeTransfer(node.alice.seed, 0, new Uint8Array(20), 1n);
    node.commit(Array.from({ length: 3000 }, () => tx));
    const client = new AbortController();
    let described = 0;
    // The client hangs up once the server is a hundred txs into the answer.
    const api: NodeApi = {
      ...node,
      describeTx(t) {
        if (++described === 100) client.abort();
        return node.describeTx(t);
      },
    };
    const port = await start({}, api);
    await expect(
      fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: json, body: rpcBody('joule_getBlock', [1, true]), signal: client.signal }),
    ).rejects.toThrow();
    const cancelled = async () => /joule_rpc_requests_total\{method="joule_getBlock",outcome="cancelled"\} 1/.test(await metrics.registry.metrics());
    while (!(await cancelled())) await new Promise((r) => setTimeout(r, 20));
    expect(described).toBeLessThan(1000);
  });

  it('the default in-flight budget follows from memory, between 8 and 64 MiB; a budget gives back what it took', () => {
    expect(defaultMaxBodyBytesInFlight(512 * MiB)).toBe(8 * MiB);
    expect(defaultMaxBodyBytesInFlight(2048 * MiB)).toBe(32 * MiB);
    expect(defaultMaxBodyBytesInFlight(16 * 1024 * MiB)).toBe(64 * MiB);
    const b = new BodyBudget(10);
    expect([b.take(6), b.take(5), b.take(4), b.used]).toEqual([true, false, true, 10]);
    b.give(10);
    expect(b.used).toBe(0);
  });
});
