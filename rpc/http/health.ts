/**
 * `/health` for both the RPC and the metrics servers: 200 `{"status":"ok",...}` when the
 * node's health callback says so, 503 `{"status":"unhealthy",...}` otherwise, including
 * when the callback itself throws (a node that cannot answer is not healthy).
 */
import type { ServerResponse } from 'node:http';
import type { HealthCheck, RpcLogger } from '../node-api.ts';

export async function respondHealth(res: ServerResponse, health: HealthCheck, logger?: RpcLogger): Promise<void> {
  let status = 503;
  let body: Record<string, unknown>;
  try {
    const { ok, ...details } = await health();
    status = ok ? 200 : 503;
    body = { status: ok ? 'ok' : 'unhealthy', ...details };
  } catch (err) {
    logger?.warn({ err }, 'health check failed');
    body = { status: 'unhealthy', reason: 'health check failed' };
  }
  sendJson(res, status, body);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (writeJson(res, status, body, headers)) res.end();
}

/** Writes a whole JSON answer (its length declared) without ending the response; false if one was sent already. */
export function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): boolean {
  if (res.headersSent || res.destroyed) return false;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.write(text);
  return true;
}
