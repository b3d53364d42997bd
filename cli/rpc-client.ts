import { Option } from 'commander';

/**
 * The CLI's JSON-RPC client (docs/json-rpc.md) and the error type every command reports
 * as `error CODE: message`. Domain codes come from the server's `error.data.code`;
 * transport failures get codes of their own with a hint at what to do.
 */

export const DEFAULT_RPC = 'http://127.0.0.1:26601';
const DEFAULT_TIMEOUT_MS = 15_000;

/** An error the CLI prints as `error CODE: message` and exits non-zero on. */
export class CliError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  constructor(code: string, message: string, field?: string) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.field = field;
  }
}

/** A JSON-RPC error response. `code` is the typed Joule code when the server sent one. */
export class RpcError extends CliError {
  readonly rpcCode: number;
  constructor(rpcCode: number, code: string, message: string, field?: string) {
    super(code, message, field);
    this.name = 'RpcError';
    this.rpcCode = rpcCode;
  }
}

const STANDARD_CODES: Record<number, string> = {
  [-32700]: 'PARSE_ERROR',
  [-32600]: 'INVALID_REQUEST',
  [-32601]: 'METHOD_NOT_FOUND',
  [-32602]: 'INVALID_PARAMS',
  [-32603]: 'INTERNAL_ERROR',
};

/** `--rpc URL`, shared by every command that talks to a node. */
export function rpcOption(): Option {
  return new Option('--rpc <url>', `JSON-RPC endpoint of a node (env JOULE_RPC, default ${DEFAULT_RPC})`);
}

export function resolveRpcUrl(flag: string | undefined): string {
  return flag ?? process.env.JOULE_RPC ?? DEFAULT_RPC;
}

function transportError(url: string, e: unknown, timeoutMs: number): CliError {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') {
    return new CliError('RPC_TIMEOUT', `no answer from ${url} within ${timeoutMs / 1000}s (is the node overloaded or stuck?)`);
  }
  const code = err.cause?.code;
  if (code === 'ECONNREFUSED') {
    return new CliError(
      'RPC_UNREACHABLE',
      `cannot connect to a Joule node at ${url} (connection refused). Is it running? ` +
        'Start one with "joule start --home DIR" or "joule devnet", or point --rpc (or env JOULE_RPC) at a running node.',
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new CliError('RPC_UNREACHABLE', `cannot resolve the host of ${url} (${code})`);
  return new CliError('RPC_UNREACHABLE', `cannot reach ${url}: ${err.cause?.message ?? err.message}`);
}

export class RpcClient {
  readonly url: string;
  private readonly timeoutMs: number;
  private nextId = 1;

  constructor(url: string, opts: { timeoutMs?: number } = {}) {
    try {
      const u = new URL(url);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw new CliError('INVALID_PARAMS', `--rpc must be an http(s) URL such as ${DEFAULT_RPC}, got ${JSON.stringify(url)}`, 'rpc');
    }
    this.url = url;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async call<T>(method: string, params: readonly unknown[] = []): Promise<T> {
    const id = this.nextId++;
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw transportError(this.url, e, this.timeoutMs);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new CliError('RPC_BAD_RESPONSE', `${this.url} answered HTTP ${res.status} without JSON; is it a Joule JSON-RPC endpoint?`);
    }
    const msg = body as { result?: unknown; error?: { code?: number; message?: string; data?: { code?: string; message?: string; field?: string } } };
    if (msg.error !== undefined && msg.error !== null) {
      const e = msg.error;
      const rpcCode = typeof e.code === 'number' ? e.code : -32603;
      const code = e.data?.code ?? STANDARD_CODES[rpcCode] ?? `RPC_${rpcCode}`;
      throw new RpcError(rpcCode, code, e.data?.message ?? e.message ?? 'unknown error', e.data?.field);
    }
    if (!res.ok || !('result' in (msg as object))) {
      throw new CliError('RPC_BAD_RESPONSE', `${this.url} answered HTTP ${res.status} without a JSON-RPC result`);
    }
    return msg.result as T;
  }
}
