/**
 * Transport-independent JSON-RPC 2.0 dispatcher: single requests, batches, notifications.
 * HTTP and WebSocket both feed it text and send back what it returns. It never throws and
 * never puts a stack trace on the wire: unexpected errors become -32603 and are logged.
 */
import { ErrorCode, isJouleError, JouleError } from '../../core/errors.ts';
import { cancelled, throwIfCancelled } from '../cancel.ts';
import type { WorkLimiter } from '../work-limiter.ts';
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

/**
 * Per-call context; `session` is the WebSocket connection's state (undefined over HTTP).
 * `signal` is aborted once the client is gone: handlers pass it on and stop (rpc/cancel.ts).
 */
export interface CallContext {
  transport: Transport;
  session?: unknown;
  signal?: AbortSignal | undefined;
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
  maxBatch?: number | undefined;
  /** What a request costs a batch (methods.ts `requestCost`); 1 when not given. */
  cost?: RequestCost | undefined;
  /** Cost units one batch may spend; a costlier batch is refused as a whole (BATCH_TOO_LARGE) before anything runs. */
  maxBatchCost?: number | undefined;
  /** Bytes of answers one batch may produce; the requests after that point are refused (RESPONSE_TOO_LARGE) without running. */
  maxBatchAnswerBytes?: number | undefined;
  /** Requests whose work grows with the chain run in their turn on `limiter`, shared by every transport of the port. */
  costly?: { readonly limiter: WorkLimiter; readonly isCostly: (method: string, params: readonly unknown[]) => boolean } | undefined;
}

/**
 * What one request costs a batch, in units: 1 for an answer of bounded size (an account, a
 * tx, a block's header and tx hashes), more for one that grows with the chain (a block with
 * its full txs). Requests of cost 1 in a row run together; a costlier one runs alone.
 */
export type RequestCost = (method: string, params: readonly unknown[]) => number;

export const DEFAULT_MAX_BATCH = 100;
export const DEFAULT_MAX_BATCH_COST = 100;
export const DEFAULT_MAX_BATCH_ANSWER_BYTES = 8 * 1024 * 1024;

export class Dispatcher {
  readonly #methods: ReadonlyMap<string, MethodHandler>;
  readonly #logger: RpcLogger | undefined;
  readonly #metrics: RpcMetrics | undefined;
  readonly #maxBatch: number;
  readonly #cost: RequestCost;
  readonly #maxBatchCost: number;
  readonly #maxBatchAnswerBytes: number;
  readonly #costly: DispatcherOptions['costly'];

  constructor(opts: DispatcherOptions) {
    this.#methods = opts.methods;
    this.#logger = opts.logger;
    this.#metrics = opts.metrics;
    this.#maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
    this.#cost = opts.cost ?? (() => 1);
    this.#maxBatchCost = opts.maxBatchCost ?? DEFAULT_MAX_BATCH_COST;
    this.#maxBatchAnswerBytes = opts.maxBatchAnswerBytes ?? DEFAULT_MAX_BATCH_ANSWER_BYTES;
    this.#costly = opts.costly;
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
    if (!Array.isArray(value)) {
      const out = await this.#handleOne(value, ctx);
      return out === undefined ? undefined : serialize(out);
    }
    if (value.length === 0) {
      this.#reject(RpcErrorCode.INVALID_REQUEST, ctx);
      return serialize(errorResponse(null, { code: RpcErrorCode.INVALID_REQUEST, message: 'invalid request: empty batch' }));
    }
    if (value.length > this.#maxBatch) {
      return this.#refuseBatch(`batch of ${value.length} requests exceeds the limit of ${this.#maxBatch}`, ctx);
    }
    const costs = value.map((item) => this.#costOf(item));
    const total = costs.reduce((a, b) => a + b, 0);
    if (total > this.#maxBatchCost) {
      return this.#refuseBatch(
        `batch costs ${total} units, more than the limit of ${this.#maxBatchCost} (a block with full txs costs more than one unit)`,
        ctx,
      );
    }
    return this.#handleBatch(value, costs, ctx);
  }

  #refuseBatch(message: string, ctx: CallContext): string {
    const error = new JouleError(ErrorCode.BATCH_TOO_LARGE, message);
    this.#reject(RpcErrorCode.INVALID_REQUEST, ctx, error.toJSON());
    return serialize(errorResponse(null, { code: RpcErrorCode.INVALID_REQUEST, message: `invalid request: ${message}`, data: error.toJSON() }));
  }

  /** A request's cost: what `cost` says for a well-formed one (at least 1), 1 for anything else (it is answered with an error). */
  #costOf(item: unknown): number {
    if (item === null || typeof item !== 'object') return 1;
    const { method, params } = item as Record<string, unknown>;
    if (typeof method !== 'string' || !this.#methods.has(method)) return 1;
    const c = this.#cost(method, Array.isArray(params) ? params : []);
    return Number.isSafeInteger(c) && c > 1 ? c : 1;
  }

  /**
   * A batch runs in segments, in order. Consecutive requests of cost 1 start together: each
   * reaches its method synchronously, in batch order, so a batch of one sender's txs (nonces
   * n, n+1, ...) is submitted in order, and the node's admission keeps that order while their
   * signatures are verified together (one at a time, each would wait for a worker round trip
   * of its own). A costlier request runs alone, so a batch holds at most one large answer in
   * the making. Answers are serialized as they come: once they pass the byte budget, the
   * remaining requests are refused without running; a batch whose client is gone stops.
   */
  async #handleBatch(items: readonly unknown[], costs: readonly number[], ctx: CallContext): Promise<string | undefined> {
    const parts: string[] = [];
    let bytes = 0;
    let at = 0;
    while (at < items.length) {
      if (ctx.signal?.aborted === true) return undefined; // nobody to answer
      let end = at + 1;
      if (costs[at] === 1) while (end < items.length && costs[end] === 1) end++;
      const refusal =
        bytes > this.#maxBatchAnswerBytes
          ? new JouleError(
              ErrorCode.RESPONSE_TOO_LARGE,
              `the batch's answers passed ${this.#maxBatchAnswerBytes} bytes; this request was not run (send it again, or in a smaller batch)`,
            )
          : undefined;
      const answers = await Promise.all(items.slice(at, end).map((item) => this.#handleOne(item, ctx, refusal)));
      for (const r of answers) {
        if (r === undefined) continue;
        const text = serialize(r);
        bytes += Buffer.byteLength(text);
        parts.push(text);
      }
      at = end;
    }
    if (ctx.signal?.aborted === true) return undefined;
    return parts.length === 0 ? undefined : `[${parts.join(',')}]`;
  }

  /** One request; `refusal`, when given, is its answer instead of running it. */
  async #handleOne(req: unknown, ctx: CallContext, refusal?: JouleError): Promise<Response | undefined> {
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
      if (refusal !== undefined) throw refusal;
      throwIfCancelled(ctx.signal);
      const params = (rawParams ?? []) as unknown[];
      const costly = this.#costly;
      const result =
        costly?.isCostly(method, params) === true
          ? await costly.limiter.run(async () => handler(params, ctx), ctx.signal, cancelled)
          : await handler(params, ctx);
      response = { jsonrpc: '2.0', id: rid, result: result === undefined ? null : result };
      outcome = 'ok';
    } catch (e) {
      if (ctx.signal?.aborted === true) {
        // The client is gone: whatever stopped the work (a checkpoint, the node's own check), nobody reads the answer.
        this.#metrics?.request(label, 'cancelled', (performance.now() - started) / 1000);
        return undefined;
      }
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
