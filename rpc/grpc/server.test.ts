import { type ChannelCredentials, type ClientReadableStream, credentials, makeGenericClientConstructor, status, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/net.ts';
import { createFakeNode, makeTransfer } from '../testing/fake-node.ts';
import { createTestPki, type TestPki } from '../testing/tls-certs.ts';
import { reflectionClient } from '../testing/reflection-client.ts';
import { devicePackage } from './device-contract.ts';
import { joulePackageDefinition, jouleServiceClient } from './joule-proto.ts';
import { jouleGrpcServices } from './joule-services.ts';
import { type GrpcMetrics, NO_GRPC_METRICS } from './metrics.ts';
import { type GrpcLimits, startGrpcServer, type RunningGrpcServer } from './server.ts';

/**
 * The gRPC port itself: health, reflection, the connection, stream and message size limits,
 * with real grpc-js clients; and what a client can make it hold by connecting and not using
 * the connection (raw TCP and TLS sockets that never make a call).
 */

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki('joule-grpc-server-ca');
});
afterAll(() => pki.remove());

let server: RunningGrpcServer | undefined;
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) c();
  await server?.close(100);
  server = undefined;
});

const echo = {
  definition: devicePackage().service,
  implementation: {
    ConnectDevice: (call: { on(e: string, f: (m: unknown) => void): void; write(m: unknown): void; end(): void }) => {
      call.on('data', () => call.write({ command_id: 'echo' }));
      call.on('end', () => call.end());
    },
  },
};

function healthClient(port: number, options: Record<string, unknown> = {}, creds: ChannelCredentials = credentials.createInsecure()) {
  const Ctor = makeGenericClientConstructor(healthService as never, 'Health');
  const c = new Ctor(`127.0.0.1:${port}`, creds, { 'grpc.use_local_subchannel_pool': 1, 'grpc.initial_reconnect_backoff_ms': 100, ...options });
  closers.push(() => c.close());
  return c as unknown as {
    check(req: { service: string }, opts: { deadline: number }, cb: (e: ServiceError | null, r?: { status: number | string }) => void): void;
    watch(req: { service: string }): ClientReadableStream<{ status: unknown }>;
  };
}

const check = (c: ReturnType<typeof healthClient>, name: string) =>
  new Promise<{ err: ServiceError | null; status?: number | string }>((resolve) =>
    c.check({ service: name }, { deadline: Date.now() + 3000 }, (err, r) => resolve({ err, status: r?.status })),
  );

describe('the gRPC server', () => {
  it('answers the standard health check for the whole server and for each hosted service, NOT_SERVING once told', async () => {
    server = await startGrpcServer({ host: '127.0.0.1', port: 0, services: [echo], reflect: [devicePackage().pkg] });
    const c = healthClient(server.port);
    expect((await check(c, '')).status).toBe('SERVING');
    expect((await check(c, 'energysettlement.v1.EnergyDeviceStream')).status).toBe('SERVING');
    expect((await check(c, 'no.such.Service')).err?.code).toBe(status.NOT_FOUND);
    server.setServing(false);
    expect((await check(c, '')).status).toBe('NOT_SERVING');
  });

  it("hosting the device stream and joule.v1 as the node does: reflection lists and describes both packages' services, health knows each", async () => {
    const joule = jouleGrpcServices({ api: createFakeNode() });
    server = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      services: [echo, ...joule],
      reflect: [devicePackage().pkg, joulePackageDefinition()],
    });
    const r = reflectionClient(`127.0.0.1:${server.port}`);
    closers.push(() => r.client.close());
    const listed = await r.listServices();
    for (const name of [
      'energysettlement.v1.EnergyDeviceStream',
      'joule.v1.TransactionService',
      'joule.v1.QueryService',
      'joule.v1.EventService',
      'joule.v1.CommandService',
    ])
      expect(listed, name).toContain(name);
    // A client that knows nothing of Joule can build calls: the file of a service, with the types it imports.
    const files = Buffer.concat(await r.fileContainingSymbol('joule.v1.QueryService')).toString('latin1');
    expect(files).toContain('GetBlock');
    expect(files).toContain('CommitCertificate');
    expect(Buffer.concat(await r.fileContainingSymbol('energysettlement.v1.EnergyDeviceStream')).toString('latin1')).toContain('DeviceTelemetry');
    await expect(r.fileContainingSymbol('joule.v1.NoSuchService')).rejects.toThrow(/reflection/);
    const c = healthClient(server.port);
    for (const name of ['joule.v1.QueryService', 'joule.v1.EventService', 'energysettlement.v1.EnergyDeviceStream'])
      expect((await check(c, name)).status, name).toBe('SERVING');
  });

  it('closes connections beyond its limit on arrival', async () => {
    server = await startGrpcServer({ host: '127.0.0.1', port: 0, services: [echo], limits: { maxConnections: 1 } });
    const first = await check(healthClient(server.port), '');
    expect(first.status).toBe('SERVING');
    const second = await check(healthClient(server.port, { 'grpc.initial_reconnect_backoff_ms': 100 }), '');
    expect(second.err?.code).toBe(status.UNAVAILABLE);
    expect(server.connections()).toBe(1);
  });

  it('serves at most maxStreamsPerConnection streams of one connection at once; the next waits for one to end', async () => {
    let open = 0;
    let most = 0;
    const counting = {
      definition: devicePackage().service,
      implementation: {
        ConnectDevice: (call: { on(e: string, f: (m: unknown) => void): void; write(m: unknown): void; end(): void }) => {
          most = Math.max(most, ++open);
          call.on('data', () => call.write({ command_id: 'echo' }));
          call.on('end', () => {
            open--;
            call.end();
          });
        },
      },
    };
    server = await startGrpcServer({ host: '127.0.0.1', port: 0, services: [counting], limits: { maxStreamsPerConnection: 2 } });
    const Ctor = makeGenericClientConstructor(devicePackage().service as never, 'EnergyDeviceStream');
    const client = new Ctor(`127.0.0.1:${server.port}`, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }) as unknown as {
      ConnectDevice(): { on(e: string, f: (m: unknown) => void): void; write(m: unknown): void; end(): void };
      close(): void;
    };
    closers.push(() => client.close());
    const echoed: number[] = [];
    const calls = [0, 1, 2].map((i) => {
      const call = client.ConnectDevice();
      call.on('data', () => echoed.push(i));
      call.on('error', () => {});
      call.write({ device_id: `d-${i}` });
      return call;
    });
    await waitFor('the first two streams echoed', () => (echoed.length === 2 ? true : undefined), 3000, 20);
    await new Promise((r) => setTimeout(r, 300));
    expect(echoed.sort()).toEqual([0, 1]);
    calls[0]!.end();
    await waitFor('the third stream echoed', () => (echoed.includes(2) ? true : undefined), 3000, 20);
    expect(most).toBe(2);
    for (const c of calls.slice(1)) c.end();
  });

  it('refuses a message over its size limit with RESOURCE_EXHAUSTED', async () => {
    server = await startGrpcServer({ host: '127.0.0.1', port: 0, services: [echo], limits: { maxMessageBytes: 2048 } });
    const c = healthClient(server.port);
    const r = await check(c, 'x'.repeat(4096));
    expect(r.err?.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it('GetBlock reads whole blocks at most 16 at once, the other calls waiting their turn', async () => {
    const node = createFakeNode();
    node.commit([]);
    let running = 0;
    let most = 0;
    const api = {
      ...node,
      getBlockByHeight: async (h: number) => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 30));
        running--;
        return node.getBlockByHeight(h);
      },
    };
    server = await startGrpcServer({ host: '127.0.0.1', port: 0, services: jouleGrpcServices({ api }) });
    const Query = jouleServiceClient('QueryService');
    const query = new Query(`127.0.0.1:${server.port}`, credentials.createInsecure()) as unknown as {
      GetBlock(req: unknown, cb: (e: ServiceError | null, r?: { height: string }) => void): void;
      close(): void;
    };
    closers.push(() => query.close());
    const heights = await Promise.all(
      Array.from(
        { length: 40 },
        () => new Promise<string>((resolve, reject) => query.GetBlock({ height: '1' }, (e, r) => (e === null ? resolve(r!.height) : reject(e)))),
      ),
    );
    expect([new Set(heights), most]).toEqual([new Set(['1']), 16]);
  });

  it('sends messages larger than the receive limit: a 3,000-tx block reaches a block subscriber and GetBlock whole', async () => {
    const node = createFakeNode();
    server = await startGrpcServer({ host: '127.0.0.1', port: 0, services: jouleGrpcServices({ api: node }), limits: { maxMessageBytes: 64 * 1024 } });
    const Events = jouleServiceClient('EventService');
    const Query = jouleServiceClient('QueryService');
    const events = new Events(`127.0.0.1:${server.port}`, credentials.createInsecure()) as unknown as {
      Subscribe(req: unknown): ClientReadableStream<{ block: { height: string; tx_hashes: Buffer[] } }>;
      close(): void;
    };
    const query = new Query(`127.0.0.1:${server.port}`, credentials.createInsecure()) as unknown as {
      GetBlock(req: unknown, cb: (e: ServiceError | null, r?: { tx_hashes: Buffer[] }) => void): void;
      close(): void;
    };
    closers.push(
      () => events.close(),
      () => query.close(),
    );
    const stream = events.Subscribe({ blocks: true });
    const big = new Promise<{ block: { height: string; tx_hashes: Buffer[] } }>((resolve, reject) => {
      stream.on('data', resolve);
      stream.on('error', reject);
    });
    await waitFor('the subscription', () => (node.listenerCount() > 0 ? true : undefined), 5000, 10);
    const tx = makeTransfer(node.alice.seed, 0, new Uint8Array(20), 1n);
    const sb = node.commit(Array.from({ length: 3000 }, () => tx));
    const got = await big;
    expect([got.block.height, got.block.tx_hashes.length]).toEqual([String(sb.block.header.height), 3000]);
    const answer = await new Promise<{ tx_hashes: Buffer[] }>((resolve, reject) =>
      query.GetBlock({ height: String(sb.block.header.height) }, (e, r) => (e === null ? resolve(r!) : reject(e))),
    );
    expect(answer.tx_hashes.length).toBe(3000);
    stream.cancel();
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts the connections the server refuses, by reason. */
function counting() {
  const seen = { refusedLimit: 0, refusedPerAddress: 0 };
  const metrics: GrpcMetrics = {
    ...NO_GRPC_METRICS,
    connectionRefused: (reason) => (reason === 'limit' ? seen.refusedLimit++ : seen.refusedPerAddress++),
  };
  return { seen, metrics };
}

async function start(limits: Partial<GrpcLimits>, metrics: GrpcMetrics, tls = false): Promise<RunningGrpcServer> {
  server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    services: [],
    limits,
    metrics,
    tls: tls ? { cert: pki.server.cert, key: pki.server.key } : undefined,
  });
  return server;
}

/** A raw TCP connection that sends `bytes` (maybe nothing) and then nothing more; resolves once it is open. */
async function rawSocket(port: number, bytes?: Uint8Array): Promise<Socket & { closedAt?: number }> {
  const s: Socket & { closedAt?: number } = tcpConnect(port, '127.0.0.1');
  closers.push(() => s.destroy());
  s.on('error', () => {});
  s.on('close', () => (s.closedAt = Date.now()));
  s.resume(); // what the server sends is read (and dropped), so its close reaches 'close'
  await new Promise<void>((resolve) => s.once('connect', () => resolve()));
  if (bytes !== undefined) s.write(bytes);
  return s;
}

async function closedWithin(s: { closedAt?: number }, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (s.closedAt === undefined && Date.now() < deadline) await sleep(20);
  return s.closedAt !== undefined;
}

const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

describe('the gRPC port and connections that make no call', () => {
  it('closes a connection that opens no call within idleConnectionMs (silent, or HTTP/2 without a call), never one with a call open', async () => {
    const { metrics } = counting();
    const port = (await start({ idleConnectionMs: 300 }, metrics)).port;
    const openedAt = Date.now();
    const silent = await rawSocket(port);
    const prefaceOnly = await rawSocket(port, HTTP2_PREFACE);
    // A call that stays open (the health service's server stream) on a connection of its own.
    const watch = healthClient(port).watch({ service: '' });
    closers.push(() => watch.cancel());
    const statuses: unknown[] = [];
    watch.on('data', (m: { status: unknown }) => statuses.push(m.status));
    watch.on('error', () => {});
    expect(await closedWithin(silent, 2000)).toBe(true);
    expect(await closedWithin(prefaceOnly, 2000)).toBe(true);
    expect(silent.closedAt! - openedAt).toBeGreaterThanOrEqual(250);
    await sleep(700);
    expect(server!.connections()).toBe(1);
    server!.setServing(false);
    const deadline = Date.now() + 2000;
    while (statuses.length < 2 && Date.now() < deadline) await sleep(20);
    expect(statuses).toEqual(['SERVING', 'NOT_SERVING']);
  });

  it('over TLS: a client that never finishes its handshake is closed in time, and one that opens no call after it', async () => {
    const { metrics } = counting();
    const port = (await start({ idleConnectionMs: 300 }, metrics, true)).port;
    // A TCP connection that stops after the first bytes of a TLS ClientHello.
    const half = await rawSocket(port, Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0x01));
    // A completed handshake and nothing after it.
    const quiet = tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', ca: pki.ca, ALPNProtocols: ['h2'] });
    closers.push(() => quiet.destroy());
    quiet.on('error', () => {});
    quiet.resume();
    await new Promise<void>((resolve) => quiet.once('secureConnect', () => resolve()));
    const quietClosed = new Promise<void>((resolve) => quiet.once('close', () => resolve()));
    const client = healthClient(port, { 'grpc.ssl_target_name_override': 'localhost' }, credentials.createSsl(pki.ca));
    expect((await check(client, '')).status).toBe('SERVING');
    expect(await closedWithin(half, 2000)).toBe(true);
    await Promise.race([quietClosed, sleep(2000).then(() => expect.fail('the quiet TLS connection was not closed'))]);
    expect((await check(client, '')).status).toBe('SERVING');
  });

  it('sockets holding every connection slot without calling lock devices out only until their deadline', async () => {
    const { seen, metrics } = counting();
    const port = (await start({ maxConnections: 3, idleConnectionMs: 500 }, metrics)).port;
    for (let i = 0; i < 3; i++) await rawSocket(port);
    const refused = await check(healthClient(port, { 'grpc.initial_reconnect_backoff_ms': 2000 }), '');
    expect(refused.err?.code).toBe(status.UNAVAILABLE);
    expect(seen.refusedLimit).toBeGreaterThanOrEqual(1);
    await sleep(700);
    expect((await check(healthClient(port), '')).status).toBe('SERVING');
  });

  it('one address holds at most maxConnectionsPerAddress connections; one freed makes room', async () => {
    const { seen, metrics } = counting();
    const port = (await start({ maxConnectionsPerAddress: 2 }, metrics)).port;
    const a = await rawSocket(port);
    await rawSocket(port);
    const third = await rawSocket(port);
    expect(await closedWithin(third, 1000)).toBe(true);
    expect(seen.refusedPerAddress).toBe(1);
    a.destroy();
    await sleep(100);
    const fourth = await rawSocket(port);
    expect(await closedWithin(fourth, 300)).toBe(false);
    expect(server!.connections()).toBe(2);
  });

  it('closes a connection idleConnectionMs after its last call ended; its client reconnects on the next call', async () => {
    const { metrics } = counting();
    const port = (await start({ idleConnectionMs: 300 }, metrics)).port;
    const client = healthClient(port);
    expect((await check(client, '')).status).toBe('SERVING');
    expect(server!.connections()).toBe(1);
    const deadline = Date.now() + 3000;
    while (server!.connections() > 0 && Date.now() < deadline) await sleep(50);
    expect(server!.connections()).toBe(0);
    // The client reconnects on its next call.
    expect((await check(client, '')).status).toBe('SERVING');
  });
});
