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
    expect(errorOf(() => parseConfig({ rpc: { prot: 1 } })).message).toMatch(/config\.rpc\.prot: unknown field \(known: host, port\)/);
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

  it('names the field of a wrong type', () => {
    expect(errorOf(() => parseConfig({ rpc: { port: 70000 } })).field).toBe('config.rpc.port');
    expect(errorOf(() => parseConfig({ log: { level: 'loud' } })).field).toBe('config.log.level');
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
