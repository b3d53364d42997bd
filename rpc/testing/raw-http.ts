/**
 * HTTP requests with every header under the test's control (fetch will not send a chosen
 * Host or omit Content-Type), for rpc/'s transport tests.
 */
import { request } from 'node:http';

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
}

/** `localAddress`: the loopback address to send from (e.g. 127.0.0.2), to be another client host. */
export function rawRequest(
  port: number,
  opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string; localAddress?: string },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const target = {
      host: '127.0.0.1',
      port,
      method: opts.method ?? 'POST',
      path: opts.path ?? '/',
      headers: opts.headers ?? {},
      localAddress: opts.localAddress,
      agent: false,
    };
    const req = request(target, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, body, json });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A JSON-RPC request body. */
export const rpcBody = (method: string, params: unknown[] = [], id: number | string = 1): string => JSON.stringify({ jsonrpc: '2.0', id, method, params });
