/**
 * Reading a request body without letting clients make the node hold memory: a body is at
 * most `maxBodyBytes` (413), and all bodies being read at once share one budget (503 when
 * it is spent). The budget a request took is given back when its response closes, whether
 * it was answered or its client went away, or at once when it is refused; nothing is kept
 * per connection.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { writeJson } from './json-response.ts';
import type { BodyBudget } from './limits.ts';

/** Past this many bytes of a refused body we stop draining it and drop the connection. */
const MAX_DRAIN_BYTES = 16 * 1024 * 1024;
/** How long a refused request's connection stays open for the rest of its body (a client that stopped sending is not waited for). */
const LINGER_MS = 2000;

export interface BodyOptions {
  readonly maxBodyBytes: number;
  readonly budget: BodyBudget;
  /** Told the code of each refusal (for the metrics). */
  readonly refused: (error: JouleError) => void;
}

/**
 * The body as text, or undefined when the request was refused (answered here) or its
 * client went away.
 */
export function readBody(req: IncomingMessage, res: ServerResponse, opts: BodyOptions): Promise<string | undefined> {
  const { maxBodyBytes, budget } = opts;
  let taken = 0;
  /** Gives back what the body holds: when it is refused (its bytes are dropped then) and when its response closes (nothing, if refused). */
  const release = (): void => {
    budget.give(taken);
    taken = 0;
  };
  res.once('close', release);
  return new Promise((resolve) => {
    const refuse = (status: number, error: JouleError, headers: Record<string, string> = {}): void => {
      opts.refused(error);
      refuseAndDrain(req, res, status, error, headers);
      resolve(undefined);
    };
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBodyBytes) return refuse(413, tooLarge(maxBodyBytes));
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > maxBodyBytes) return stop(413, tooLarge(maxBodyBytes));
      if (!budget.take(c.length)) {
        return stop(503, new JouleError(ErrorCode.SERVER_BUSY, `the server is reading ${budget.limit} bytes of requests already; try again shortly`), {
          'retry-after': '1',
        });
      }
      taken += c.length;
      chunks.push(c);
    };
    const stop = (status: number, error: JouleError, headers?: Record<string, string>): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      // Held until the connection closes (after the drain), they would refuse others too.
      chunks.length = 0;
      release();
      refuse(status, error, headers);
    };
    const onEnd = (): void => {
      const text = Buffer.concat(chunks).toString('utf8');
      chunks.length = 0;
      resolve(text);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', () => resolve(undefined)); // client went away; nothing to answer
    res.once('close', () => resolve(undefined)); // no-op once resolved
  });
}

function tooLarge(limit: number): JouleError {
  return new JouleError(ErrorCode.BODY_TOO_LARGE, `request body exceeds ${limit} bytes`);
}

/** The JSON-RPC error body of a request refused before dispatch. */
export function refusalBody(error: JouleError): unknown {
  return { jsonrpc: '2.0', id: null, error: { code: -32600, message: error.message, data: error.toJSON() } };
}

/**
 * Answers, then closes: the rest of the body is not worth reading on a kept-alive
 * connection. The answer goes out whole at once, but the response ends (and the
 * connection closes) only once the rest of the body is drained (bounded, not stored), or
 * after LINGER_MS: a client still sending it into a closed connection fails with EPIPE
 * before it reads the answer (a fresh clone's end-to-end test did, once, under load).
 */
export function refuseAndDrain(req: IncomingMessage, res: ServerResponse, status: number, error: JouleError, headers: Record<string, string> = {}): void {
  if (!writeJson(res, status, refusalBody(error), { connection: 'close', ...headers })) return;
  const end = (): void => {
    clearTimeout(linger);
    if (!res.writableEnded) res.end();
  };
  const linger = setTimeout(end, LINGER_MS);
  res.once('close', () => clearTimeout(linger));
  if (req.complete) return end();
  let drained = 0;
  req.on('data', (c: Buffer) => {
    drained += c.length;
    if (drained > MAX_DRAIN_BYTES) req.destroy();
  });
  req.once('end', end);
  req.resume();
}
