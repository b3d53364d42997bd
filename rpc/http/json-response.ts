/**
 * JSON answers of the RPC and metrics ports (JSON-RPC replies, /health, refusals): the
 * length declared, never cached, and at most one per response.
 */
import type { ServerResponse } from 'node:http';

/** Sends a whole JSON answer and ends the response; nothing if one was sent already. */
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
