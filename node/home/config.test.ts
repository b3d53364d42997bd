import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { bindError, parseConfig } from './config.ts';

const errorOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e as { code: string; field: string; message: string };
  }
  throw new Error('expected an error');
};

describe('config.json', () => {
  it('takes a partial config and fills in defaults', () => {
    const c = parseConfig({ name: 'dso-1', rpc: { port: 9000 }, mempool: { maxTxs: 5 } });
    expect([c.name, c.rpc.port, c.rpc.host, c.mempool.maxTxs, c.mempool.maxBytes > 0]).toEqual(['dso-1', 9000, '127.0.0.1', 5, true]);
  });

  it('refuses unknown fields at every level, naming them (issue 8: nested typos were silently ignored)', () => {
    expect(errorOf(() => parseConfig({ mempol: {} }))).toMatchObject({ code: 'CONFIG_INVALID', field: 'config.mempol' });
    expect(errorOf(() => parseConfig({ mempool: { maxTx: 5 } }))).toMatchObject({ code: 'CONFIG_INVALID', field: 'config.mempool.maxTx' });
    expect(errorOf(() => parseConfig({ rpc: { prot: 1 } })).message).toMatch(/config\.rpc\.prot: unknown field \(known: host, port, /);
    expect(errorOf(() => parseConfig({ p2p: { peer: [] } })).field).toBe('config.p2p.peer');
  });

  // Found by the fuzzer (test/fuzz, target config): `k in defaults` counted what every
  // object inherits as a field, so these keys were accepted and ignored.
  it('refuses keys every object inherits (toString, constructor, __proto__, ...) as unknown, at every level', () => {
    for (const key of ['toString', 'valueOf', 'constructor', 'hasOwnProperty', '__proto__']) {
      expect(errorOf(() => parseConfig(JSON.parse(`{"${key}": 1}`)))).toMatchObject({ code: 'CONFIG_INVALID', field: `config.${key}` });
      expect(errorOf(() => parseConfig(JSON.parse(`{"grpc": {"${key}": 1}}`)))).toMatchObject({ code: 'CONFIG_INVALID', field: `config.grpc.${key}` });
    }
  });

  it("has the gRPC port's hold limits (connections per address, idle connections, a stream's proof, streams awaiting it), with defaults, and refuses ones too small", () => {
    const d = parseConfig({}).grpc;
    expect([d.maxConnectionsPerAddress, d.idleConnectionMs, d.proveStreamWithinMs, d.maxUnprovenStreams]).toEqual([1024, 30_000, 30_000, 8192]);
    const c = parseConfig({ grpc: { maxConnectionsPerAddress: 8, idleConnectionMs: 5_000, proveStreamWithinMs: 2_000, maxUnprovenStreams: 64 } }).grpc;
    expect([c.maxConnectionsPerAddress, c.idleConnectionMs, c.proveStreamWithinMs, c.maxUnprovenStreams]).toEqual([8, 5_000, 2_000, 64]);
    expect(errorOf(() => parseConfig({ grpc: { idleConnectionMs: 10 } }))).toMatchObject({ code: 'CONFIG_INVALID', field: 'config.grpc.idleConnectionMs' });
    expect(errorOf(() => parseConfig({ grpc: { proveStreamWithinMs: 999 } }))).toMatchObject({
      code: 'CONFIG_INVALID',
      field: 'config.grpc.proveStreamWithinMs',
    });
    expect(errorOf(() => parseConfig({ grpc: { maxConnectionsPerAddress: 0 } }))).toMatchObject({
      code: 'CONFIG_INVALID',
      field: 'config.grpc.maxConnectionsPerAddress',
    });
    expect([d.unprovenFailuresPerSecondPerAddress, d.unprovenFailuresPerSecond]).toEqual([10, 200]);
    expect(errorOf(() => parseConfig({ grpc: { unprovenFailuresPerSecond: 0.5 } }))).toMatchObject({
      code: 'CONFIG_INVALID',
      field: 'config.grpc.unprovenFailuresPerSecond',
    });
  });

  it('has the mempool expiry and per-sender gap limits, with defaults (issue 8, finding 2)', () => {
    const d = parseConfig({});
    expect([d.mempool.maxGappedPerSender, d.mempool.maxGapAgeMs, d.mempool.maxTxAgeMs]).toEqual([64, 30_000, 600_000]);
    const c = parseConfig({ mempool: { maxGappedPerSender: 0, maxGapAgeMs: 5_000, maxTxAgeMs: 60_000 } });
    expect([c.mempool.maxGappedPerSender, c.mempool.maxGapAgeMs, c.mempool.maxTxAgeMs]).toEqual([0, 5_000, 60_000]);
    expect(errorOf(() => parseConfig({ mempool: { maxGapAgeMs: 0 } })).field).toBe('config.mempool.maxGapAgeMs');
    expect(errorOf(() => parseConfig({ mempool: { maxTxAgeMs: '10m' } })).field).toBe('config.mempool.maxTxAgeMs');
  });

  it('names the field of a wrong type', () => {
    expect(errorOf(() => parseConfig({ rpc: { port: 70000 } })).field).toBe('config.rpc.port');
    expect(errorOf(() => parseConfig({ log: { level: 'loud' } })).field).toBe('config.log.level');
  });

  it('RPC security settings (issue 8): CORS origins, Host allow-list, connection and body caps, each checked', () => {
    const d = parseConfig({}).rpc;
    expect(d).toMatchObject({
      corsOrigins: [],
      hosts: ['localhost'],
      maxConnections: 1024,
      maxConnectionsPerAddress: null,
      maxWsConnections: null,
      maxWsConnectionsPerAddress: null,
      maxBodyBytesInFlight: null,
    });
    const c = parseConfig({
      rpc: {
        corsOrigins: ['https://app.example', 'http://localhost:3000'],
        hosts: ['rpc.dso.example', '10.0.0.5', '[::1]', '*'],
        maxConnections: 50,
        maxConnectionsPerAddress: 10,
        maxWsConnections: 20,
        maxWsConnectionsPerAddress: 4,
        maxBodyBytesInFlight: 8 * 1024 * 1024,
      },
    }).rpc;
    expect([
      c.corsOrigins.length,
      c.hosts.length,
      c.maxConnections,
      c.maxConnectionsPerAddress,
      c.maxWsConnections,
      c.maxWsConnectionsPerAddress,
      c.maxBodyBytesInFlight,
    ]).toEqual([2, 4, 50, 10, 20, 4, 8 * 1024 * 1024]);
    for (const [rpc, field] of [
      [{ corsOrigins: ['https://app.example/'] }, 'config.rpc.corsOrigins'], // a path: browsers never send one
      [{ corsOrigins: 'https://app.example' }, 'config.rpc.corsOrigins'],
      [{ corsOrigins: ['app.example'] }, 'config.rpc.corsOrigins'],
      [{ hosts: ['http://rpc.example'] }, 'config.rpc.hosts'],
      [{ hosts: ['rpc.example:8545'] }, 'config.rpc.hosts'],
      [{ maxConnections: 0 }, 'config.rpc.maxConnections'],
      [{ maxWsConnections: -1 }, 'config.rpc.maxWsConnections'],
      [{ maxConnectionsPerAddress: 0 }, 'config.rpc.maxConnectionsPerAddress'],
      [{ maxWsConnectionsPerAddress: 1.5 }, 'config.rpc.maxWsConnectionsPerAddress'],
      [{ maxBodyBytesInFlight: 1000 }, 'config.rpc.maxBodyBytesInFlight'],
      [{ cors: [] }, 'config.rpc.cors'],
    ] as const) {
      expect(
        errorOf(() => parseConfig({ rpc })),
        JSON.stringify(rpc),
      ).toMatchObject({ code: 'CONFIG_INVALID', field });
    }
  });
});

describe('binding a configured address (issue 8: "error INTERNAL: listen EADDRINUSE" named no field)', () => {
  it('a busy port names <section>.port; an address the machine does not have names <section>.host', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    const inUse = await new Promise<unknown>((resolve) => {
      const again = createServer();
      again.once('error', resolve);
      again.listen(port, '127.0.0.1');
    });
    busy.close();
    expect(bindError(inUse, 'rpc', `127.0.0.1:${port}`)).toMatchObject({ code: 'CONFIG_INVALID', field: 'config.rpc.port' });
    const noAddress = await new Promise<unknown>((resolve) => {
      const s = createServer();
      s.once('error', resolve);
      s.listen(0, '192.0.2.1'); // TEST-NET-1: never a local address
    });
    const e = bindError(noAddress, 'metrics', '192.0.2.1:0');
    expect(e).toMatchObject({ code: 'CONFIG_INVALID', field: 'config.metrics.host' });
    expect(e.message).toMatch(/no such local address/);
  });
});

describe('config: verify.workers', () => {
  it('defaults to null (the machine decides), takes a positive integer, and refuses anything else naming the field', () => {
    expect(parseConfig({}).verify.workers).toBeNull();
    expect(parseConfig({ verify: { workers: 3 } }).verify.workers).toBe(3);
    for (const workers of [0, -1, 1.5, '2'])
      expect(errorOf(() => parseConfig({ verify: { workers } }))).toMatchObject({ code: 'CONFIG_INVALID', field: 'config.verify.workers' });
    expect(errorOf(() => parseConfig({ verify: { threads: 2 } })).field).toBe('config.verify.threads');
  });
});
