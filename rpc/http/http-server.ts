/**
 * The RPC port: JSON-RPC over `POST /` and `POST /rpc`, `GET /health`, and WebSocket
 * upgrades on `/ws`. Hardened for untrusted clients: bounded bodies (413), bounded batches,
 * JSON content type only (a browser cannot send it cross-site without a CORS preflight,
 * which we do not grant unless origins are configured), and no input can crash it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { respondHealth, sendJson } from './health.ts';
import { Dispatcher, DEFAULT_MAX_BATCH } from '../jsonrpc/jsonrpc.ts';
import type { RpcMetrics } from '../metrics.ts';
import { listen, type RunningServer } from './metrics-server.ts';
import { createMethods } from '../jsonrpc/methods.ts';
import type { HealthCheck, NodeApi, RpcLogger } from '../node-api.ts';
import { subscriptionMethods, WS_LIMITS, WsGateway, type WsLimits } from './ws.ts';

export const MAX_BODY_BYTES = 1024 * 1024;
/** Past this many bytes of an oversized body we stop draining it and drop the connection. */
const MAX_DRAIN_BYTES = 16 * MAX_BODY_BYTES;

export interface RpcServerOptions {
  host: string;
  port: number;
  api: NodeApi;
  metrics?: RpcMetrics | undefined;
  logger?: RpcLogger | undefined;
  /** Defaults to "ok while api.status() answers". */
  health?: HealthCheck | undefined;
  /** Origins allowed by CORS and for browser WebSocket upgrades; empty (default) = none. `'*'` = any. */
  corsOrigins?: readonly string[] | undefined;
  maxBodyBytes?: number | undefined;
  maxBatch?: number | undefined;
  ws?: Partial<WsLimits> | undefined;
}

export type { RunningServer };

export async function startRpcServer(opts: RpcServerOptions): Promise<RunningServer> {
  const { api, metrics, logger } = opts;
  const maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const cors = opts.corsOrigins ?? [];
  const health: HealthCheck = opts.health ?? (() => ({ ok: true, height: api.status().height }));
  const methods = createMethods(api);
  const wsLimits = { ...WS_LIMITS, ...opts.ws };
  const httpMethods = new Map(methods);
  for (const [k, v] of subscriptionMethods(wsLimits.maxSubscriptions)) httpMethods.set(k, v);
  const dispatcher = new Dispatcher({ methods: httpMethods, logger, metrics, maxBatch: opts.maxBatch ?? DEFAULT_MAX_BATCH });
  const gateway = new WsGateway({ api, methods, metrics, logger, maxBatch: opts.maxBatch, limits: wsLimits });

  const allowedOrigin = (origin: string | undefined): string | undefined => {
    if (origin === undefined) return undefined;
    if (cors.includes('*')) return '*';
    return cors.includes(origin) ? origin : undefined;
  };
  const reject = (code: string) => metrics?.rejected(code, 'rpc');

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    const origin = allowedOrigin(req.headers.origin);
    if (origin !== undefined) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'origin');
    }
    if (path === '/health') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
      void respondHealth(res, health, logger);
      return;
    }
    if (path !== '/' && path !== '/rpc') return sendJson(res, 404, { error: 'not found' });
    if (req.method === 'OPTIONS' && origin !== undefined) {
      res.writeHead(204, {
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': 'content-type',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'method not allowed; use POST' }, { allow: 'POST' });
    const type = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      reject('UNSUPPORTED_MEDIA_TYPE');
      req.resume();
      return sendJson(res, 415, { error: 'content-type must be application/json' });
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBody) return tooLarge(req, res, maxBody, reject);

    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size <= maxBody) {
        chunks.push(c);
        return;
      }
      // Chunked body past the limit: answer now and drain the rest (bounded) in tooLarge.
      over = true;
      chunks.length = 0;
      req.off('data', onData);
      tooLarge(req, res, maxBody, reject);
    };
    req.on('data', onData);
    req.on('error', () => {}); // client went away; nothing to answer
    req.on('end', () => {
      if (over) return;
      const text = Buffer.concat(chunks).toString('utf8');
      dispatcher.handleText(text, { transport: 'http' }).then(
        (out) => {
          // All-notification requests owe no body (JSON-RPC 2.0 §6): 204.
          if (out === undefined) {
            res.writeHead(204);
            res.end();
          } else sendJson(res, 200, out);
        },
        (err: unknown) => {
          logger?.error({ err }, 'rpc dispatch failed');
          sendJson(res, 500, { jsonrpc: '2.0', id: null, error: { code: -32603, message: 'internal error' } });
        },
      );
    });
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      logger?.error({ err }, 'rpc http handler failed');
      sendJson(res, 500, { error: 'internal error' });
    }
  });
  // Slow-loris bounds: a request must arrive whole within these.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // Browsers always send Origin; without an allowed origin a web page may not use our WS.
    if (req.headers.origin !== undefined && allowedOrigin(req.headers.origin) === undefined) {
      reject('ORIGIN_NOT_ALLOWED');
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    gateway.handleUpgrade(req, socket, head);
  });

  await listen(server, opts.host, opts.port);
  const port = (server.address() as AddressInfo).port;
  logger?.info({ host: opts.host, port }, 'json-rpc server listening (http and ws)');
  return {
    port,
    async close() {
      await gateway.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** 413, then close: the rest of the body is not worth reading on a kept-alive connection. */
function tooLarge(req: IncomingMessage, res: ServerResponse, limit: number, reject: (code: string) => void): void {
  reject('BODY_TOO_LARGE');
  sendJson(
    res,
    413,
    { jsonrpc: '2.0', id: null, error: { code: -32600, message: `request body exceeds ${limit} bytes` } },
    { connection: 'close' },
  );
  // Drain (bounded) rather than reset at once, so the client can read the 413.
  let drained = 0;
  req.on('data', (c: Buffer) => {
    drained += c.length;
    if (drained > MAX_DRAIN_BYTES) req.destroy();
  });
  req.resume();
}
