import { credentials, makeGenericClientConstructor, status, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/net.ts';
import { createFakeNode } from '../testing/fake-node.ts';
import { reflectionClient } from '../testing/reflection-client.ts';
import { devicePackage } from './device-contract.ts';
import { joulePackageDefinition } from './joule-proto.ts';
import { jouleGrpcServices } from './joule-services.ts';
import { startGrpcServer, type RunningGrpcServer } from './server.ts';

/** The gRPC port itself: health, reflection, the connection, stream and message size limits, with real grpc-js clients. */

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

function healthClient(port: number, options: Record<string, unknown> = {}) {
  const Ctor = makeGenericClientConstructor(healthService as never, 'Health');
  const c = new Ctor(`127.0.0.1:${port}`, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, ...options });
  closers.push(() => c.close());
  return c as unknown as {
    check(req: { service: string }, opts: { deadline: number }, cb: (e: ServiceError | null, r?: { status: number | string }) => void): void;
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
});
