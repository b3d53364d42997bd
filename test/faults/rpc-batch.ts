import { RpcCallError, type RpcError } from '../helpers/net.ts';

/** The node's limit on requests per batch (docs/json-rpc.md). */
const MAX_BATCH = 100;

/**
 * Many JSON-RPC calls of one method in batches of 100; results in the order of `params`.
 * Any error response fails the whole call.
 */
export async function rpcMany<T>(url: string, method: string, params: readonly unknown[][], timeoutMs = 10_000): Promise<T[]> {
  const out: T[] = [];
  for (let at = 0; at < params.length; at += MAX_BATCH) {
    const chunk = params.slice(at, at + MAX_BATCH);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chunk.map((p, i) => ({ jsonrpc: '2.0', id: i, method, params: p }))),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json()) as { id: number; result?: T; error?: RpcError }[];
    const byId = new Map(body.map((r) => [r.id, r]));
    for (let i = 0; i < chunk.length; i++) {
      const r = byId.get(i);
      if (r === undefined) throw new Error(`${method} batch: no answer for request ${i}`);
      if (r.error !== undefined) throw new RpcCallError(r.error);
      out.push(r.result as T);
    }
  }
  return out;
}
