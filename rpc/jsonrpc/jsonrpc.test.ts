import { describe, expect, it, vi } from 'vitest';
import { Dispatcher, serialize, type MethodHandler } from './jsonrpc.ts';
// The prom-client implementation of rpc/'s metrics (and the series names operators scrape) is node/'s.
import { rpcMetrics } from '../../node/metrics/parts.ts';
import { createMetrics } from '../../node/metrics/prometheus.ts';

function dispatcher(extra: Record<string, MethodHandler> = {}, maxBatch?: number) {
  const methods = new Map<string, MethodHandler>(Object.entries({ echo: (p: unknown[]) => p[0], ...extra }));
  const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const metrics = createMetrics({ defaultMetrics: false });
  const d = new Dispatcher({ methods, logger, metrics: rpcMetrics(metrics), maxBatch });
  const send = async (text: string) => {
    const out = await d.handleText(text, { transport: 'http' });
    return out === undefined ? undefined : JSON.parse(out);
  };
  return { d, send, logger, metrics };
}

describe('JSON-RPC 2.0 dispatcher', () => {
  it('parse error -> -32700 with id null', async () => {
    const { send } = dispatcher();
    for (const bad of ['{', '', 'nul', '{"jsonrpc":"2.0",}', '\u0000']) {
      expect(await send(bad)).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.any(String) } });
    }
  });

  it('invalid requests -> -32600', async () => {
    const { send } = dispatcher();
    const bad = [
      1,
      'x',
      null,
      {},
      { jsonrpc: '1.0', id: 1, method: 'echo' },
      { jsonrpc: '2.0', id: 1, method: 5 },
      { jsonrpc: '2.0', id: 1 },
      { jsonrpc: '2.0', id: {}, method: 'echo' },
      { jsonrpc: '2.0', id: 1, method: 'echo', params: 'x' },
      { jsonrpc: '2.0', id: 1, method: 'echo', params: null },
    ];
    for (const b of bad) expect((await send(JSON.stringify(b))).error.code).toBe(-32600);
    expect((await send(JSON.stringify({ jsonrpc: '2.0', id: 7, method: 5 }))).id).toBe(7);
  });

  it('unknown method -> -32601, including prototype names', async () => {
    const { send } = dispatcher();
    for (const m of ['nope', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(await send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: m }))).toMatchObject({ id: 1, error: { code: -32601 } });
    }
  });

  it('notifications get no response but still run', async () => {
    const ran = vi.fn();
    const { send } = dispatcher({ note: () => ran() });
    expect(await send(JSON.stringify({ jsonrpc: '2.0', method: 'note' }))).toBeUndefined();
    expect(
      await send(
        JSON.stringify([
          { jsonrpc: '2.0', method: 'note' },
          { jsonrpc: '2.0', method: 'nope' },
        ]),
      ),
    ).toBeUndefined();
    expect(ran).toHaveBeenCalledTimes(2);
  });

  it('batches: mixed results in order, empty -> -32600, over the limit -> one -32600', async () => {
    const { send } = dispatcher({}, 3);
    const r = await send(
      JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'echo', params: ['a'] },
        5,
        { jsonrpc: '2.0', method: 'echo' },
        { jsonrpc: '2.0', id: 'b', method: 'nope' },
      ]),
    );
    expect(r).toMatchObject({ id: null, error: { code: -32600 } }); // 4 > 3
    const r2 = await send(JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'echo', params: ['a'] }, 5, { jsonrpc: '2.0', id: 'b', method: 'nope' }]));
    expect(r2).toEqual([
      { jsonrpc: '2.0', id: 1, result: 'a' },
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: expect.any(String) } },
      { jsonrpc: '2.0', id: 'b', error: { code: -32601, message: expect.any(String) } },
    ]);
    expect((await send('[]')).error.code).toBe(-32600);
  });

  it('a batch over the limit is rejected as a whole', async () => {
    const { send } = dispatcher({}, 100);
    const batch = Array.from({ length: 101 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'echo', params: [i] }));
    const r = await send(JSON.stringify(batch));
    expect(r).toMatchObject({ id: null, error: { code: -32600 } });
    expect(r.error.message).toMatch(/101.*100/);
    expect(await send(JSON.stringify(batch.slice(0, 100)))).toHaveLength(100);
  });

  it('internal errors -> -32603 without details; logged', async () => {
    const { send, logger } = dispatcher({
      boom: () => {
        throw new Error('secret path /etc/x');
      },
    });
    const r = await send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'boom' }));
    expect(r).toEqual({ jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'internal error' } });
    expect(JSON.stringify(r)).not.toMatch(/secret|stack|at /);
    expect(logger.error).toHaveBeenCalledOnce();
  });

  it('undefined result becomes null; bigint and bytes are serialised safely', async () => {
    const { send } = dispatcher({ nothing: () => undefined });
    expect((await send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'nothing' }))).result).toBeNull();
    expect(serialize({ a: 1n, b: new Uint8Array([1, 255]), c: Buffer.from([2]) })).toBe('{"a":"1","b":"0x01ff","c":"0x02"}');
  });

  it('counts rejections by code and requests by method/outcome', async () => {
    const { send, metrics } = dispatcher();
    await send('{');
    await send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'nope' }));
    await send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: [1] }));
    const text = await metrics.registry.metrics();
    expect(text).toContain('joule_rejections_total{code="PARSE_ERROR",source="rpc"} 1');
    expect(text).toContain('joule_rejections_total{code="METHOD_NOT_FOUND",source="rpc"} 1');
    expect(text).toContain('joule_rpc_requests_total{method="unknown",outcome="method_not_found"} 1');
    expect(text).toContain('joule_rpc_requests_total{method="echo",outcome="ok"} 1');
    expect(text).toMatch(/joule_rpc_request_duration_seconds_count\{method="echo"\} 1/);
  });
});

describe('batches: costed, bounded, cancelled (issue 8, finding 4)', () => {
  const req = (id: number, method: string, params: unknown[] = []) => ({ jsonrpc: '2.0', id, method, params });

  it('a batch costing more than the limit is refused whole (BATCH_TOO_LARGE), nothing run', async () => {
    const ran = vi.fn();
    const methods = new Map<string, MethodHandler>([
      ['heavy', () => ran()],
      ['light', () => ran()],
    ]);
    const metrics = createMetrics({ defaultMetrics: false });
    const d = new Dispatcher({ methods, metrics: rpcMetrics(metrics), cost: (m) => (m === 'heavy' ? 10 : 1), maxBatchCost: 30 });
    const over = JSON.parse((await d.handleText(JSON.stringify([req(1, 'heavy'), req(2, 'heavy'), req(3, 'heavy'), req(4, 'light')]), { transport: 'http' }))!);
    expect(over).toMatchObject({ id: null, error: { code: -32600, data: { code: 'BATCH_TOO_LARGE' } } });
    expect(over.error.message).toMatch(/31 units.*30/);
    expect(ran).not.toHaveBeenCalled();
    expect(await metrics.registry.metrics()).toContain('joule_rejections_total{code="BATCH_TOO_LARGE",source="rpc"} 1');
    const ok = JSON.parse((await d.handleText(JSON.stringify([req(1, 'heavy'), req(2, 'heavy'), req(3, 'heavy')]), { transport: 'http' }))!);
    expect(ok).toHaveLength(3);
  });

  it('cheap requests in a row start together, in order; a costly one runs alone', async () => {
    const log: string[] = [];
    const slow = (name: string) => async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 5));
      log.push(`end ${name}`);
      return name;
    };
    const methods = new Map<string, MethodHandler>([
      ['a', slow('a')],
      ['b', slow('b')],
      ['heavy', slow('heavy')],
    ]);
    const d = new Dispatcher({ methods, cost: (m) => (m === 'heavy' ? 5 : 1) });
    const out = JSON.parse((await d.handleText(JSON.stringify([req(1, 'a'), req(2, 'b'), req(3, 'heavy'), req(4, 'a')]), { transport: 'http' }))!);
    expect(out.map((r: any) => r.result)).toEqual(['a', 'b', 'heavy', 'a']);
    expect(log).toEqual(['start a', 'start b', 'end a', 'end b', 'start heavy', 'end heavy', 'start a', 'end a']);
  });

  it('once the answers pass the byte budget, the rest of the batch is refused without running (RESPONSE_TOO_LARGE)', async () => {
    const ran = vi.fn();
    const methods = new Map<string, MethodHandler>([['big', () => (ran(), 'x'.repeat(600))]]);
    const d = new Dispatcher({ methods, cost: () => 2, maxBatchAnswerBytes: 1000 });
    const out = JSON.parse((await d.handleText(JSON.stringify([1, 2, 3, 4].map((i) => req(i, 'big'))), { transport: 'http' }))!);
    expect(out.map((r: any) => r.result?.length ?? r.error.data.code)).toEqual([600, 600, 'RESPONSE_TOO_LARGE', 'RESPONSE_TOO_LARGE']);
    expect(ran).toHaveBeenCalledTimes(2);
  });

  it('a batch whose client is gone stops and answers nothing; the stopped request is counted as cancelled', async () => {
    const client = new AbortController();
    let runs = 0;
    const methods = new Map<string, MethodHandler>([
      [
        'work',
        async (_p, ctx) => {
          runs++;
          if (runs === 2) client.abort();
          await new Promise((r) => setTimeout(r, 1));
          ctx.signal?.throwIfAborted();
          return runs;
        },
      ],
    ]);
    const metrics = createMetrics({ defaultMetrics: false });
    const d = new Dispatcher({ methods, metrics: rpcMetrics(metrics), cost: () => 2 });
    const out = await d.handleText(JSON.stringify([1, 2, 3, 4, 5].map((i) => req(i, 'work'))), { transport: 'http', signal: client.signal });
    expect(out).toBeUndefined();
    expect(runs).toBe(2);
    expect(await metrics.registry.metrics()).toContain('joule_rpc_requests_total{method="work",outcome="cancelled"} 1');
  });
});
