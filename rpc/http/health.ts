/**
 * `/health` for both the RPC and the metrics servers: 200 `{"status":"ok",...}` when the
 * node's health callback says so, 503 `{"status":"unhealthy",...}` otherwise, including
 * when the callback itself throws (a node that cannot answer is not healthy).
 */
import type { ServerResponse } from 'node:http';
import type { HealthCheck, RpcLogger } from '../node-api.ts';
import { sendJson } from './json-response.ts';

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
