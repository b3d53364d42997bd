/**
 * The RPC port: JSON-RPC over `POST /` and `POST /rpc`, `GET /health`, and WebSocket
 * upgrades on `/ws`. Hardened for untrusted clients: Host and Origin checked and JSON
 * content type required (request-guard.ts), bounded connections, bodies and batches
 * (limits.ts, body.ts), a request timeout answered 408, work stopped when its client goes
 * away, and no input can crash it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { respondHealth } from './health.ts';
import { sendJson } from './json-response.ts';
import { Dispatcher, DEFAULT_MAX_BATCH } from '../jsonrpc/jsonrpc.ts';
import type { RpcMetrics } from '../metrics.ts';
import { listen, type RunningServer } from './metrics-server.ts';
import { costlyRequest, createMethods, requestCost } from '../jsonrpc/methods.ts';
import { WorkLimiter } from '../work-limiter.ts';
import type { HealthCheck, NodeApi, RpcLogger } from '../node-api.ts';
import { readBody, refusalBody } from './body.ts';
import { BodyBudget, transportLimits, type TransportLimits } from './limits.ts';
import { PerAddressLimit } from '../per-address-limit.ts';
import { allowedOrigin, checkContentType, checkHost, checkOrigin, hostPolicy } from './request-guard.ts';
import { subscriptionMethods, WsGateway, type WsLimits } from './ws.ts';

export { MAX_BODY_BYTES } from './limits.ts';

export interface RpcServerOptions {
  host: string;
  port: number;
  api: NodeApi;
  metrics?: RpcMetrics | undefined;
  logger?: RpcLogger | undefined;
  /** Defaults to "ok while api.status() answers". */
  health?: HealthCheck | undefined;
  /** Origins whose browser requests and WebSocket upgrades are served; empty (default) = none. `'*'` = any. */
  corsOrigins?: readonly string[] | undefined;
  /** Host names accepted in the `Host` header (IP addresses always are); default localhost and `host`. `'*'` = any. */
  hosts?: readonly string[] | undefined;
  limits?: Partial<TransportLimits> | undefined;
  maxBatch?: number | undefined;
  ws?: Partial<WsLimits> | undefined;
}

export type { RunningServer };

export async function startRpcServer(opts: RpcServerOptions): Promise<RunningServer> {
  const { api, metrics, logger } = opts;
  const limits: TransportLimits = transportLimits(opts.limits);
  const cors = opts.corsOrigins ?? [];
  const hosts = hostPolicy(opts.hosts, opts.host);
  const budget = new BodyBudget(limits.maxBodyBytesInFlight);
  const health: HealthCheck = opts.health ?? (() => ({ ok: true, height: api.status().height }));
  const methods = createMethods(api);
  // One line for the port's costly requests, HTTP and WebSocket together.
  const costly = { limiter: new WorkLimiter(), isCostly: costlyRequest };
  const gateway = new WsGateway({ api, methods, metrics, logger, maxBatch: opts.maxBatch, limits: opts.ws, costly });
  const httpMethods = new Map(methods);
  for (const [k, v] of subscriptionMethods(gateway.limits.maxSubscriptions)) httpMethods.set(k, v);
  const dispatcher = new Dispatcher({ methods: httpMethods, logger, metrics, maxBatch: opts.maxBatch ?? DEFAULT_MAX_BATCH, cost: requestCost, costly });

  const refused = (e: JouleError): void => {
    metrics?.rejected(e.code, 'rpc');
    logger?.debug({ code: e.code, err: e.message }, 'rpc request refused');
  };
  const refuse = (res: ServerResponse, status: number, e: JouleError): void => {
    refused(e);
    sendJson(res, status, refusalBody(e));
  };

  /** Requests being handled per connection (pipelined ones arrive together). */
  const inFlight = new WeakMap<Socket, number>();
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const hostError = checkHost(req.headers.host, hosts);
    if (hostError !== undefined) return refuse(res, 403, hostError);
    const path = (req.url ?? '/').split('?')[0];
    const origin = allowedOrigin(req.headers.origin, cors);
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
    // Refused, not merely unreadable: without this a page of any site could make the
    // user's browser submit transactions to a node it can reach.
    const originError = checkOrigin(req.headers.origin, cors);
    if (originError !== undefined) return refuse(res, 403, originError);
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
    const typeError = checkContentType(req.headers['content-type']);
    if (typeError !== undefined) return refuse(res, 415, typeError);
    const socket = req.socket;
    const open = inFlight.get(socket) ?? 0;
    if (open >= limits.maxRequestsPerConnection)
      return refuse(
        res,
        429,
        new JouleError(
          ErrorCode.RATE_LIMITED,
          `more than ${limits.maxRequestsPerConnection} requests in flight on one connection; read the answers before sending more`,
        ),
      );
    inFlight.set(socket, open + 1);
    res.once('close', () => inFlight.set(socket, (inFlight.get(socket) ?? 1) - 1));

    // Aborted when the client goes away before its answer: methods stop at their next checkpoint.
    const client = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) client.abort();
    });
    void readBody(req, res, { maxBodyBytes: limits.maxBodyBytes, budget, refused }).then(async (text) => {
      if (text === undefined) return;
      try {
        const out = await dispatcher.handleText(text, { transport: 'http', signal: client.signal });
        if (client.signal.aborted) return;
        // All-notification requests owe no body (JSON-RPC 2.0 §6): 204.
        if (out === undefined) {
          res.writeHead(204);
          res.end();
        } else sendJson(res, 200, out);
      } catch (err) {
        logger?.error({ err }, 'rpc dispatch failed');
        sendJson(res, 500, { jsonrpc: '2.0', id: null, error: { code: -32603, message: 'internal error' } });
      }
    });
  };

  const server = createServer(
    // Request timeouts are checked this often (Node's default, 30 s, would double a short timeout).
    { connectionsCheckingInterval: Math.max(100, Math.min(1000, limits.requestTimeoutMs / 4)) },
    (req, res) => {
      try {
        handle(req, res);
      } catch (err) {
        logger?.error({ err }, 'rpc http handler failed');
        sendJson(res, 500, { error: 'internal error' });
      }
    },
  );
  // Slow-loris bounds: a request must arrive whole within these.
  server.requestTimeout = limits.requestTimeoutMs;
  server.headersTimeout = Math.min(10_000, limits.requestTimeoutMs);
  // Past the cap Node closes new connections at accept, before reading a byte.
  server.maxConnections = limits.maxConnections;
  const perAddress = new PerAddressLimit(limits.maxConnectionsPerAddress);
  let open = 0;
  server.on('connection', (socket: Socket) => {
    const giveBack = perAddress.admit(socket.remoteAddress ?? '');
    if (giveBack === undefined) {
      // Closed before a byte is read, as past the total cap: it costs the port nothing more.
      refused(
        new JouleError(ErrorCode.RATE_LIMITED, `more than ${limits.maxConnectionsPerAddress} connections from one address (rpc.maxConnectionsPerAddress)`),
      );
      socket.destroy();
      return;
    }
    metrics?.connections('http', ++open);
    socket.once('close', () => {
      giveBack();
      metrics?.connections('http', --open);
    });
  });
  server.on('drop', () => refused(new JouleError(ErrorCode.SERVER_BUSY, `more than ${limits.maxConnections} connections (rpc.maxConnections)`)));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => clientError(err, socket, refused));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/ws') return rawAnswer(socket, 404, 'Not Found');
    // Browsers always send Origin on an upgrade; without an allowed origin a web page may not use our WS.
    const error = checkHost(req.headers.host, hosts) ?? checkOrigin(req.headers.origin, cors);
    if (error !== undefined) {
      refused(error);
      return rawAnswer(socket, 403, 'Forbidden', refusalBody(error));
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

/**
 * A request the HTTP parser gave up on: 408 when it did not arrive in time (a body that
 * trickles in), 431 for oversized headers, 400 otherwise; never over a response already
 * on its way.
 */
function clientError(err: NodeJS.ErrnoException, socket: Duplex, refused: (e: JouleError) => void): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    const e = new JouleError(ErrorCode.REQUEST_TIMEOUT, 'the request did not arrive in time');
    refused(e);
    if (socket.writable && (inFlight == null || !inFlight.headersSent)) return rawAnswer(socket, 408, 'Request Timeout', refusalBody(e));
  } else if (socket.writable && (inFlight == null || !inFlight.headersSent)) {
    return err.code === 'HPE_HEADER_OVERFLOW' ? rawAnswer(socket, 431, 'Request Header Fields Too Large') : rawAnswer(socket, 400, 'Bad Request');
  }
  socket.destroy();
}

/** An answer written on the socket itself (no ServerResponse exists), then close. */
function rawAnswer(socket: Duplex, status: number, reason: string, body?: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  const type = body === undefined ? '' : 'Content-Type: application/json; charset=utf-8\r\n';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\n${type}Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}
