/**
 * JSON-RPC over WebSocket with `newBlocks` subscriptions. What all subscribers together
 * make the node hold is bounded:
 * - a block's notification is encoded once, and every subscription is sent that one
 *   buffer (a message of three frames: its own small head, the shared body, a tail), so
 *   a thousand subscribers that do not read hold one copy, not a thousand;
 * - a consumer whose send buffer is past `maxBufferedBytes` when an answer or the next
 *   block is due is disconnected (close 1013, counted as SLOW_CONSUMER);
 * - connections are capped (`maxConnections`, by default sized from memory: limits.ts), and
 *   one remote address may hold only its share of them (`maxConnectionsPerAddress`).
 * A connection's requests get an AbortSignal aborted when it closes, so their work stops.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, WebSocket } from 'ws';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { sha256 } from '../../core/hash.ts';
import { formatBlock, hex } from '../jsonrpc/json-format.ts';
import { Dispatcher, type DispatcherOptions, RpcError, RpcErrorCode, serialize, type CallContext, type MethodHandler } from '../jsonrpc/jsonrpc.ts';
import { requestCost } from '../jsonrpc/methods.ts';
import type { RpcMetrics } from '../metrics.ts';
import type { NodeApi, RpcLogger, StoredBlock } from '../node-api.ts';
import { defaultPerAddress, PerAddressLimit } from '../per-address-limit.ts';
import { defaultMaxWsConnections } from './limits.ts';

export interface WsLimits {
  /** Largest message a client may send. */
  readonly maxPayload: number;
  readonly maxSubscriptions: number;
  /** Bytes queued to one client (each subscription's notifications counted) past which it is a slow consumer and is closed. */
  readonly maxBufferedBytes: number;
  /** WebSocket connections at once; more upgrades get 503. */
  readonly maxConnections: number;
  /** Of those, the most one remote address may hold; more upgrades from it get 429. */
  readonly maxConnectionsPerAddress: number;
  readonly heartbeatMs: number;
  /** Requests of one connection being processed at once; more are refused, not queued. */
  readonly maxInFlight: number;
  /**
   * Bytes of the messages of one connection being processed at once (a message is held until
   * all its requests are answered); past it, further messages are refused until some finish.
   * One message is always taken when none is in flight.
   */
  readonly maxInFlightBytes: number;
}

export const WS_LIMITS = {
  maxPayload: 1024 * 1024,
  maxSubscriptions: 32,
  maxBufferedBytes: 4 * 1024 * 1024,
  heartbeatMs: 30_000,
  maxInFlight: 64,
  maxInFlightBytes: 1024 * 1024,
} as const;

/**
 * The limits with `given` applied; `maxConnections`, unless given, sized from memory for the
 * per-connection bounds in force, and the per-address share, unless given, from that.
 */
export function wsLimits(given: Partial<WsLimits> = {}): WsLimits {
  const l = { ...WS_LIMITS, ...given };
  const maxConnections = given.maxConnections ?? defaultMaxWsConnections(l.maxBufferedBytes + l.maxPayload + l.maxInFlightBytes);
  return { ...l, maxConnections, maxConnectionsPerAddress: given.maxConnectionsPerAddress ?? defaultPerAddress(maxConnections) };
}

/** Close code for slow consumers: 1013 "try again later". */
const CLOSE_SLOW_CONSUMER = 1013;

interface Session {
  readonly ws: WebSocket;
  /** Subscription id -> the head of its notifications (up to where the shared result starts). */
  readonly subs: Map<string, Buffer>;
  /** Aborted when the connection closes: its requests' work stops. */
  readonly closed: AbortController;
  alive: boolean;
  inFlight: number;
  inFlightBytes: number;
}

/** `{"jsonrpc":"2.0","method":"joule_subscription","params":{"subscription":ID,"result":` RESULT `}}` */
function notificationHead(id: string): Buffer {
  return Buffer.from(`{"jsonrpc":"2.0","method":"joule_subscription","params":{"subscription":${JSON.stringify(id)},"result":`);
}
const NOTIFICATION_TAIL = Buffer.from('}}');

export interface WsGatewayOptions {
  api: NodeApi;
  /** Methods shared with HTTP; subscribe/unsubscribe are added here. */
  methods: ReadonlyMap<string, MethodHandler>;
  metrics?: RpcMetrics | undefined;
  logger?: RpcLogger | undefined;
  maxBatch?: number | undefined;
  limits?: Partial<WsLimits> | undefined;
  /** The port's line for costly requests (shared with HTTP). */
  costly?: DispatcherOptions['costly'];
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
    s.subs.set(id, notificationHead(id));
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
  readonly limits: WsLimits;
  readonly #wss: WebSocketServer;
  readonly #sessions = new Set<Session>();
  readonly #perAddress: PerAddressLimit;
  readonly #dispatcher: Dispatcher;
  readonly #logger: RpcLogger | undefined;
  readonly #metrics: RpcMetrics | undefined;
  readonly #unsubscribeBlocks: () => void;
  readonly #heartbeat: NodeJS.Timeout;

  constructor(opts: WsGatewayOptions) {
    this.limits = wsLimits(opts.limits);
    this.#perAddress = new PerAddressLimit(this.limits.maxConnectionsPerAddress);
    this.#logger = opts.logger;
    this.#metrics = opts.metrics;
    const methods = new Map(opts.methods);
    for (const [k, v] of subscriptionMethods(this.limits.maxSubscriptions)) methods.set(k, v);
    this.#dispatcher = new Dispatcher({ methods, logger: opts.logger, metrics: opts.metrics, maxBatch: opts.maxBatch, cost: requestCost, costly: opts.costly });
    // noServer: the RPC HTTP server routes upgrades on /ws here, so one port serves both.
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: this.limits.maxPayload });
    this.#unsubscribeBlocks = opts.api.on('block-committed', (b) => this.#onBlock(b));
    this.#heartbeat = setInterval(() => this.#ping(), this.limits.heartbeatMs);
    this.#heartbeat.unref();
  }

  get connections(): number {
    return this.#sessions.size;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#sessions.size >= this.limits.maxConnections) {
      this.#metrics?.rejected(ErrorCode.SERVER_BUSY, 'rpc-ws');
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // Taken until the socket closes, whether or not the handshake completes.
    const giveBack = this.#perAddress.admit(req.socket.remoteAddress ?? '');
    if (giveBack === undefined) {
      this.#metrics?.rejected(ErrorCode.RATE_LIMITED, 'rpc-ws');
      socket.end('HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.once('close', giveBack);
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws));
  }

  #accept(ws: WebSocket): void {
    const session: Session = { ws, subs: new Map(), closed: new AbortController(), alive: true, inFlight: 0, inFlightBytes: 0 };
    this.#sessions.add(session);
    this.#metrics?.connections('ws', this.#sessions.size);
    ws.on('pong', () => {
      session.alive = true;
    });
    ws.on('message', (data) => {
      // Text and binary frames alike are read as UTF-8 JSON (invalid text -> parse error).
      const bytes = Buffer.concat(toBuffers(data));
      const { maxInFlight, maxInFlightBytes } = this.limits;
      const tooMany = session.inFlight >= maxInFlight;
      if (tooMany || (session.inFlight > 0 && session.inFlightBytes + bytes.length > maxInFlightBytes)) {
        const error = new JouleError(
          ErrorCode.RATE_LIMITED,
          tooMany ? `more than ${maxInFlight} requests in flight` : `more than ${maxInFlightBytes} bytes of messages in flight; wait for their answers`,
        );
        this.#metrics?.rejected(error.code, 'rpc-ws');
        this.#send(session, serialize({ jsonrpc: '2.0', id: null, error: { code: RpcErrorCode.DOMAIN_ERROR, message: error.message, data: error.toJSON() } }));
        return;
      }
      session.inFlight++;
      session.inFlightBytes += bytes.length;
      this.#dispatcher
        .handleText(bytes.toString('utf8'), { transport: 'ws', session, signal: session.closed.signal })
        .then(
          (out) => {
            if (out !== undefined) this.#send(session, out);
          },
          (err: unknown) => this.#logger?.error({ err }, 'ws dispatch failed'),
        )
        .finally(() => {
          session.inFlight--;
          session.inFlightBytes -= bytes.length;
        });
    });
    ws.on('error', (err) => this.#logger?.debug({ err: err.message }, 'ws connection error'));
    ws.on('close', () => {
      session.subs.clear();
      session.closed.abort();
      if (this.#sessions.delete(session)) this.#metrics?.connections('ws', this.#sessions.size);
    });
  }

  /** False, having disconnected it, when the client is too far behind to be sent more. */
  #keepsUp(s: Session): boolean {
    if (s.ws.readyState !== WebSocket.OPEN) return false;
    if (s.ws.bufferedAmount <= this.limits.maxBufferedBytes) return true;
    this.#metrics?.rejected(ErrorCode.SLOW_CONSUMER, 'rpc-ws');
    this.#logger?.warn({ buffered: s.ws.bufferedAmount, limit: this.limits.maxBufferedBytes }, 'closing slow websocket consumer');
    s.subs.clear();
    s.closed.abort();
    s.ws.close(CLOSE_SLOW_CONSUMER, 'slow consumer');
    // A peer that does not read will not complete the close handshake either.
    setTimeout(() => s.ws.terminate(), 1000).unref();
    return false;
  }

  /** An answer: a Buffer, so that queued for a slow reader it sits outside the JS heap. */
  #send(s: Session, text: string): void {
    if (this.#keepsUp(s)) s.ws.send(Buffer.from(text), { binary: false });
  }

  /** Synchronous, so notifications leave in the order the node commits blocks. */
  #onBlock(sb: StoredBlock): void {
    try {
      let body: Buffer | undefined;
      for (const s of this.#sessions) {
        if (s.subs.size === 0 || !this.#keepsUp(s)) continue;
        body ??= Buffer.from(
          serialize(
            formatBlock(
              sb,
              sb.block.txs.map((b) => hex(sha256(b))),
            ),
          ),
        );
        for (const head of s.subs.values()) {
          // One message in three frames; sent back to back, nothing comes between them.
          s.ws.send(head, { binary: false, fin: false });
          s.ws.send(body, { binary: false, fin: false });
          s.ws.send(NOTIFICATION_TAIL, { binary: false, fin: true });
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
    for (const s of this.#sessions) {
      s.closed.abort();
      s.ws.terminate();
    }
    this.#sessions.clear();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

function toBuffers(data: Buffer | ArrayBuffer | Buffer[]): Buffer[] {
  if (Array.isArray(data)) return data;
  if (data instanceof ArrayBuffer) return [Buffer.from(data)];
  return [data];
}
