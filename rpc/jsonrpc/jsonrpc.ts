/**
 * Transport-independent JSON-RPC 2.0 dispatcher: single requests, batches, notifications.
 * HTTP and WebSocket both feed it text and send back what it returns. It never throws and
 * never puts a stack trace on the wire: unexpected errors become -32603 and are logged.
 */
import { ErrorCode, isJouleError } from '../../core/errors.ts';
import { hex } from './json-format.ts';
import type { RpcMetrics } from '../metrics.ts';
import type { RpcLogger } from '../node-api.ts';

export const RpcErrorCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** A domain rejection; `error.data` is the JouleError's JSON. */
  DOMAIN_ERROR: -32000,
} as const;

/** Label used in metrics for protocol-level rejections that have no JouleError code. */
const REJECTION_CODE: Record<number, string> = {
  [RpcErrorCode.PARSE_ERROR]: 'PARSE_ERROR',
  [RpcErrorCode.INVALID_REQUEST]: 'INVALID_REQUEST',
  [RpcErrorCode.METHOD_NOT_FOUND]: 'METHOD_NOT_FOUND',
  [RpcErrorCode.INVALID_PARAMS]: ErrorCode.INVALID_PARAMS,
};

/** An error with a JSON-RPC code, thrown by handlers for protocol-level failures. */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
    this.data = data;
  }
}

export type Transport = 'http' | 'ws';

/** Per-call context; `session` is the WebSocket connection's state (undefined over HTTP). */
export interface CallContext {
  transport: Transport;
  session?: unknown;
}

export type MethodHandler = (params: unknown[], ctx: CallContext) => unknown;

type Id = string | number | null;
interface ErrorObject {
  code: number;
  message: string;
  data?: unknown;
}
type Response = { jsonrpc: '2.0'; id: Id; result: unknown } | { jsonrpc: '2.0'; id: Id; error: ErrorObject };

export interface DispatcherOptions {
  methods: ReadonlyMap<string, MethodHandler>;
  logger?: RpcLogger;
  metrics?: RpcMetrics | undefined;
  maxBatch?: number;
}

export const DEFAULT_MAX_BATCH = 100;

export class Dispatcher {
  readonly #methods: ReadonlyMap<string, MethodHandler>;
  readonly #logger: RpcLogger | undefined;
  readonly #metrics: RpcMetrics | undefined;
  readonly #maxBatch: number;

  constructor(opts: DispatcherOptions) {
    this.#methods = opts.methods;
    this.#logger = opts.logger;
    this.#metrics = opts.metrics;
    this.#maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
  }

  /** Handles one message; returns the response text, or undefined when nothing is owed (notifications only). */
  async handleText(text: string, ctx: CallContext): Promise<string | undefined> {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.#reject(RpcErrorCode.PARSE_ERROR, ctx);
      return serialize(errorResponse(null, { code: RpcErrorCode.PARSE_ERROR, message: 'parse error: body is not valid JSON' }));
    }
    const out = await this.handleValue(value, ctx);
    return out === undefined ? undefined : serialize(out);
  }

  async handleValue(value: unknown, ctx: CallContext): Promise<Response | Response[] | undefined> {
    if (!Array.isArray(value)) return this.#handleOne(value, ctx);
    if (value.length === 0) {
      this.#reject(RpcErrorCode.INVALID_REQUEST, ctx);
      return errorResponse(null, { code: RpcErrorCode.INVALID_REQUEST, message: 'invalid request: empty batch' });
    }
    if (value.length > this.#maxBatch) {
      this.#reject(RpcErrorCode.INVALID_REQUEST, ctx);
      return errorResponse(null, {
        code: RpcErrorCode.INVALID_REQUEST,
        message: `invalid request: batch of ${value.length} exceeds the limit of ${this.#maxBatch}`,
      });
    }
    // Concurrent, started in order: each call reaches its method synchronously, in batch
    // order, so a batch of one sender's txs (nonces n, n+1, ...) is submitted in order, and
    // the node's admission keeps that order while their signatures are verified together
    // (one at a time, each would wait for a worker round trip of its own).
    const answers = await Promise.all(value.map((item) => this.#handleOne(item, ctx)));
    const out = answers.filter((r): r is Response => r !== undefined);
    return out.length === 0 ? undefined : out;
  }

  async #handleOne(req: unknown, ctx: CallContext): Promise<Response | undefined> {
    if (req === null || typeof req !== 'object' || Array.isArray(req)) {
      return this.#invalid(null, 'request must be an object', ctx);
    }
    const r = req as Record<string, unknown>;
    const hasId = Object.hasOwn(r, 'id');
    const id = r.id;
    if (hasId && !(typeof id === 'string' || typeof id === 'number' || id === null)) {
      return this.#invalid(null, 'id must be a string, number or null', ctx);
    }
    const rid = (hasId ? id : null) as Id;
    if (r.jsonrpc !== '2.0') return this.#invalid(rid, 'jsonrpc must be "2.0"', ctx);
    const method = r.method;
    if (typeof method !== 'string') return this.#invalid(rid, 'method must be a string', ctx);
    const rawParams = r.params;
    if (rawParams !== undefined && (rawParams === null || typeof rawParams !== 'object')) {
      return this.#invalid(rid, 'params must be an array', ctx);
    }

    const handler = this.#methods.get(method);
    // Only known names become metric labels, so clients cannot blow up label cardinality.
    const label = handler === undefined ? 'unknown' : method;
    const started = performance.now();
    let response: Response;
    let outcome: string;
    try {
      if (handler === undefined) throw new RpcError(RpcErrorCode.METHOD_NOT_FOUND, `method not found: ${method.slice(0, 64)}`);
      if (rawParams !== undefined && !Array.isArray(rawParams)) {
        throw new RpcError(RpcErrorCode.INVALID_PARAMS, 'params must be an array (by-position)', {
          code: ErrorCode.INVALID_PARAMS,
          message: 'params must be an array',
          field: 'params',
        });
      }
      const result = await handler((rawParams ?? []) as unknown[], ctx);
      response = { jsonrpc: '2.0', id: rid, result: result === undefined ? null : result };
      outcome = 'ok';
    } catch (e) {
      const err = this.#toErrorObject(e, method);
      response = errorResponse(rid, err);
      outcome = outcomeOf(err.code);
      this.#reject(err.code, ctx, err.data);
    }
    this.#metrics?.request(label, outcome, (performance.now() - started) / 1000);
    return hasId ? response : undefined;
  }

  #invalid(id: Id, message: string, ctx: CallContext): Response {
    this.#reject(RpcErrorCode.INVALID_REQUEST, ctx);
    this.#metrics?.invalidRequest();
    return errorResponse(id, { code: RpcErrorCode.INVALID_REQUEST, message: `invalid request: ${message}` });
  }

  #toErrorObject(e: unknown, method: string): ErrorObject {
    if (e instanceof RpcError) {
      return e.data === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, data: e.data };
    }
    if (isJouleError(e)) {
      const code = e.code === ErrorCode.INVALID_PARAMS ? RpcErrorCode.INVALID_PARAMS : RpcErrorCode.DOMAIN_ERROR;
      return { code, message: e.message, data: e.toJSON() };
    }
    // Anything else is our bug or an I/O failure: log it in full, answer without details.
    this.#logger?.error({ err: e, method }, 'rpc method failed with an internal error');
    return { code: RpcErrorCode.INTERNAL_ERROR, message: 'internal error' };
  }

  #reject(code: number, ctx: CallContext, data?: unknown): void {
    if (code === RpcErrorCode.INTERNAL_ERROR) return; // our failure, not a rejected request
    const domain = (data as { code?: unknown } | undefined)?.code;
    const label = typeof domain === 'string' ? domain : (REJECTION_CODE[code] ?? String(code));
    this.#metrics?.rejected(label, ctx.transport === 'ws' ? 'rpc-ws' : 'rpc');
    this.#logger?.debug({ code: label, rpcCode: code, transport: ctx.transport }, 'rpc request rejected');
  }
}

function outcomeOf(code: number): string {
  switch (code) {
    case RpcErrorCode.METHOD_NOT_FOUND:
      return 'method_not_found';
    case RpcErrorCode.INVALID_PARAMS:
      return 'invalid_params';
    case RpcErrorCode.DOMAIN_ERROR:
      return 'rejected';
    case RpcErrorCode.INTERNAL_ERROR:
      return 'internal_error';
    default:
      return 'error';
  }
}

function errorResponse(id: Id, error: ErrorObject): Response {
  return { jsonrpc: '2.0', id, error };
}

/** JSON with a safety net for values a formatter missed: bigint -> string, bytes -> hex. */
export function serialize(v: unknown): string {
  return JSON.stringify(v, function (this: Record<string, unknown>, k: string, x: unknown) {
    const raw = this[k]; // before toJSON: a Buffer would otherwise become {type, data}
    if (raw instanceof Uint8Array) return hex(raw);
    if (typeof x === 'bigint') return x.toString();
    return x;
  });
}
