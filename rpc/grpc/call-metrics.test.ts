import { credentials, makeGenericClientConstructor, status, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { afterEach, describe, expect, it } from 'vitest';
import { devicePackage } from './device-contract.ts';
import type { GrpcMethodLabels, GrpcMetrics } from './metrics.ts';
import { startGrpcServer, type RunningGrpcServer } from './server.ts';

/** The port's call metrics, counted by the server's interceptor for real grpc-js calls. */

let server: RunningGrpcServer | undefined;
const closers: (() => void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) c();
  await server?.close(100);
  server = undefined;
});

function recorder() {
  const events: string[] = [];
  const open = new Map<string, number>();
  let connections = 0;
  const key = (l: GrpcMethodLabels) => `${l.service}/${l.method} ${l.type}`;
  const metrics: GrpcMetrics = {
    connections: (n) => {
      connections = n;
    },
    connectionRefused: (reason) => events.push(`refused ${reason}`),
    callStarted: (l) => {
      events.push(`start ${key(l)}`);
      open.set(key(l), (open.get(key(l)) ?? 0) + 1);
    },
    callEnded: (l, code) => {
      events.push(`end ${key(l)} ${code}`);
      open.set(key(l), (open.get(key(l)) ?? 0) - 1);
    },
    messageReceived: (l) => events.push(`recv ${key(l)}`),
    messageSent: (l) => events.push(`sent ${key(l)}`),
    slowConsumer: () => {},
  };
  return { metrics, events, open, connections: () => connections };
}

const until = async (what: string, f: () => boolean) => {
  for (let i = 0; i < 300 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!f()) throw new Error(`timed out waiting for ${what}`);
};

// Echoes one command per reading; ends the stream when the device half-closes.
const echo = {
  definition: devicePackage().service,
  implementation: {
    ConnectDevice: (call: { on(e: string, f: (m: unknown) => void): void; write(m: unknown): void; end(): void }) => {
      call.on('data', () => call.write({ command_id: 'echo' }));
      call.on('end', () => call.end());
    },
  },
};

describe('gRPC call metrics', () => {
  it('counts calls by method and status, messages each way, open calls and connections', async () => {
    const r = recorder();
    server = await startGrpcServer({ host: '127.0.0.1', port: 0, services: [echo], metrics: r.metrics });
    const Health = makeGenericClientConstructor(healthService as never, 'Health');
    const health = new Health(`127.0.0.1:${server.port}`, credentials.createInsecure()) as unknown as {
      check(req: { service: string }, cb: (e: ServiceError | null) => void): void;
      watch(req: { service: string }): { on(e: string, f: (x: unknown) => void): void; cancel(): void };
      close(): void;
    };
    closers.push(() => health.close());
    await new Promise<void>((resolve) => health.check({ service: '' }, () => resolve()));
    const notFound = await new Promise<ServiceError | null>((resolve) => health.check({ service: 'no.such.Service' }, resolve));
    expect(notFound?.code).toBe(status.NOT_FOUND);
    const H = 'grpc.health.v1.Health/Check unary';
    expect(r.events.filter((e) => e.includes(H))).toEqual([
      `start ${H}`,
      `recv ${H}`,
      `sent ${H}`,
      `end ${H} OK`,
      `start ${H}`,
      `recv ${H}`,
      `end ${H} NOT_FOUND`,
    ]);
    expect(r.connections()).toBe(1);

    // A bidi stream: two messages each way, ended OK.
    const Device = makeGenericClientConstructor(devicePackage().service, 'EnergyDeviceStream');
    const device = new Device(`127.0.0.1:${server.port}`, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }) as unknown as {
      ConnectDevice(): { on(e: string, f: (x: unknown) => void): void; write(m: unknown): void; end(): void; cancel(): void };
      close(): void;
    };
    closers.push(() => device.close());
    const D = 'energysettlement.v1.EnergyDeviceStream/ConnectDevice bidi_stream';
    const call = device.ConnectDevice();
    call.on('data', () => {});
    const done = new Promise((resolve) => call.on('status', resolve));
    call.write({ device_id: 'a' });
    call.write({ device_id: 'a' });
    call.end();
    await done;
    await until('the stream ended', () => r.events.includes(`end ${D} OK`));
    expect(r.events.filter((e) => e === `recv ${D}`)).toHaveLength(2);
    expect(r.events.filter((e) => e === `sent ${D}`)).toHaveLength(2);

    // A stream its client abandons ends CANCELLED, and is no longer open.
    const watch = health.watch({ service: '' });
    watch.on('error', () => {});
    watch.on('data', () => {});
    const W = 'grpc.health.v1.Health/Watch server_stream';
    await until('the watch is open', () => r.open.get(W) === 1);
    watch.cancel();
    await until('the watch ended', () => r.events.includes(`end ${W} CANCELLED`));
    expect(r.open.get(W)).toBe(0);
    expect(r.open.get(H)).toBe(0);
    expect(r.open.get(D)).toBe(0);

    // Connections: two clients, then none.
    expect(r.connections()).toBe(2);
    health.close();
    device.close();
    await until('connections closed', () => r.connections() === 0);
  });
});
