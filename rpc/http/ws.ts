/**
 * JSON-RPC over WebSocket with `newBlocks` subscriptions. Each connection is a session with
 * at most `maxSubscriptions` subscriptions; a consumer that reads too slowly (its send
 * buffer grows past `maxBufferedBytes`) is disconnected rather than letting the node's
 * memory grow without bound.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, WebSocket } from 'ws';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { sha256 } from '../../core/hash.ts';
import { formatBlock, hex } from '../jsonrpc/json-format.ts';
import { Dispatcher, RpcError, RpcErrorCode, serialize, type CallContext, type MethodHandler } from '../jsonrpc/jsonrpc.ts';
import type { RpcMetrics } from '../metrics.ts';
import type { NodeApi, RpcLogger, StoredBlock } from '../node-api.ts';

export const WS_LIMITS = {
  maxPayload: 1024 * 1024,
  maxSubscriptions: 32,
  /** Bytes queued to one client before it counts as a slow consumer and is closed. */
  maxBufferedBytes: 8 * 1024 * 1024,
  maxConnections: 1000,
  heartbeatMs: 30_000,
  /** Requests of one connection being processed at once; more are refused, not queued. */
  maxInFlight: 64,
};
export type WsLimits = typeof WS_LIMITS;

/** Close code for slow consumers: 1013 "try again later". */
const CLOSE_SLOW_CONSUMER = 1013;

interface Session {
  readonly ws: WebSocket;
  /** Subscription id -> topic. */
  readonly subs: Map<string, 'newBlocks'>;
  alive: boolean;
  inFlight: number;
}

export interface WsGatewayOptions {
  api: NodeApi;
  /** Methods shared with HTTP; subscribe/unsubscribe are added here. */
  methods: ReadonlyMap<string, MethodHandler>;
  metrics?: RpcMetrics | undefined;
  logger?: RpcLogger | undefined;
  maxBatch?: number | undefined;
  limits?: Partial<WsLimits> | undefined;
}

function sessionOf(ctx: CallContext): Session {
  if (ctx.transport !== 'ws' || ctx.session === undefined) {
    throw new RpcError(RpcErrorCode.METHOD_NOT_FOUND, 'subscriptions are only available over WebSocket (/ws)');
  }
  return ctx.session as Session;
}

/** Handlers for HTTP too, so that there they answer a clear "WebSocket only" error. */
export function subscriptionMethods(maxSubscriptions: number): Map<string, MethodHandler> {
  const m = new Map<string, MethodHandler>();
  m.set('joule_subscribe', (p, ctx) => {
    const s = sessionOf(ctx);
    if (p.length !== 1) throw new JouleError(ErrorCode.INVALID_PARAMS, 'expected exactly 1 param', `params[${Math.min(p.length, 1)}]`);
    if (p[0] !== 'newBlocks') throw new JouleError(ErrorCode.INVALID_PARAMS, 'unknown topic; supported: "newBlocks"', 'params[0]');
    if (s.subs.size >= maxSubscriptions) {
      throw new JouleError(ErrorCode.RATE_LIMITED, `at most ${maxSubscriptions} subscriptions per connection`, 'params[0]');
    }
    const id = '0x' + randomBytes(16).toString('hex');
    s.subs.set(id, 'newBlocks');
    return id;
  });
  m.set('joule_unsubscribe', (p, ctx) => {
    const s = sessionOf(ctx);
    if (p.length !== 1) throw new JouleError(ErrorCode.INVALID_PARAMS, 'expected exactly 1 param', `params[${Math.min(p.length, 1)}]`);
    if (typeof p[0] !== 'string') throw new JouleError(ErrorCode.INVALID_PARAMS, 'must be a subscription id string', 'params[0]');
    return s.subs.delete(p[0]);
  });
  return m;
}

export class WsGateway {
  readonly #wss: WebSocketServer;
  readonly #sessions = new Set<Session>();
  readonly #dispatcher: Dispatcher;
  readonly #limits: WsLimits;
  readonly #logger: RpcLogger | undefined;
  readonly #metrics: RpcMetrics | undefined;
  readonly #unsubscribeBlocks: () => void;
  readonly #heartbeat: NodeJS.Timeout;

  constructor(opts: WsGatewayOptions) {
    this.#limits = { ...WS_LIMITS, ...opts.limits };
    this.#logger = opts.logger;
    this.#metrics = opts.metrics;
    const methods = new Map(opts.methods);
    for (const [k, v] of subscriptionMethods(this.#limits.maxSubscriptions)) methods.set(k, v);
    this.#dispatcher = new Dispatcher({ methods, logger: opts.logger, metrics: opts.metrics, maxBatch: opts.maxBatch });
    // noServer: the RPC HTTP server routes upgrades on /ws here, so one port serves both.
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: this.#limits.maxPayload });
    this.#unsubscribeBlocks = opts.api.on('block-committed', (b) => this.#onBlock(b));
    this.#heartbeat = setInterval(() => this.#ping(), this.#limits.heartbeatMs);
    this.#heartbeat.unref();
  }

  get connections(): number {
    return this.#sessions.size;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#sessions.size >= this.#limits.maxConnections) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws));
  }

  #accept(ws: WebSocket): void {
    const session: Session = { ws, subs: new Map(), alive: true, inFlight: 0 };
    this.#sessions.add(session);
    ws.on('pong', () => {
      session.alive = true;
    });
    ws.on('message', (data) => {
      // Text and binary frames alike are read as UTF-8 JSON (invalid text -> parse error).
      const text = Buffer.concat(toBuffers(data)).toString('utf8');
      if (session.inFlight >= this.#limits.maxInFlight) {
        const error = new JouleError(ErrorCode.RATE_LIMITED, `more than ${this.#limits.maxInFlight} requests in flight`);
        this.#metrics?.rejected(error.code, 'rpc-ws');
        this.#send(session, serialize({ jsonrpc: '2.0', id: null, error: { code: RpcErrorCode.DOMAIN_ERROR, message: error.message, data: error.toJSON() } }));
        return;
      }
      session.inFlight++;
      this.#dispatcher
        .handleText(text, { transport: 'ws', session })
        .then(
          (out) => {
            if (out !== undefined) this.#send(session, out);
          },
          (err: unknown) => this.#logger?.error({ err }, 'ws dispatch failed'),
        )
        .finally(() => session.inFlight--);
    });
    ws.on('error', (err) => this.#logger?.debug({ err: err.message }, 'ws connection error'));
    ws.on('close', () => {
      session.subs.clear();
      this.#sessions.delete(session);
    });
  }

  #send(s: Session, text: string): void {
    if (s.ws.readyState !== WebSocket.OPEN) return;
    if (s.ws.bufferedAmount > this.#limits.maxBufferedBytes) {
      this.#logger?.warn({ buffered: s.ws.bufferedAmount }, 'closing slow websocket consumer');
      s.subs.clear();
      s.ws.close(CLOSE_SLOW_CONSUMER, 'slow consumer');
      // A peer that does not read will not complete the close handshake either.
      setTimeout(() => s.ws.terminate(), 1000).unref();
      return;
    }
    s.ws.send(text);
  }

  /** Synchronous, so notifications leave in the order the node commits blocks. */
  #onBlock(sb: StoredBlock): void {
    try {
      let result: unknown;
      for (const s of this.#sessions) {
        for (const [id, topic] of s.subs) {
          if (topic !== 'newBlocks') continue;
          result ??= formatBlock(sb, sb.block.txs.map((b) => hex(sha256(b))));
          this.#send(s, serialize({ jsonrpc: '2.0', method: 'joule_subscription', params: { subscription: id, result } }));
        }
      }
    } catch (err) {
      // Never let a subscriber problem propagate into the node's commit path.
      this.#logger?.error({ err }, 'newBlocks notification failed');
    }
  }

  #ping(): void {
    for (const s of this.#sessions) {
      if (!s.alive) {
        s.ws.terminate();
        continue;
      }
      s.alive = false;
      s.ws.ping();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#unsubscribeBlocks();
    for (const s of this.#sessions) s.ws.terminate();
    this.#sessions.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

function toBuffers(data: Buffer | ArrayBuffer | Buffer[]): Buffer[] {
  if (Array.isArray(data)) return data;
  if (data instanceof ArrayBuffer) return [Buffer.from(data)];
  return [data];
}
