/**
 * Who may talk to the RPC port from a browser. A web page can make the user's browser send
 * requests to a node on localhost or the LAN; three checks keep such a page from using it:
 * - `Host`: a DNS-rebinding page reaches us under its own name, so a name must be on the
 *   allow-list (`rpc.hosts`, as geth's `--http.vhosts`); an IP address is always accepted,
 *   because rebinding needs a name.
 * - `Origin`: a browser names the page's origin on every cross-origin request and on every
 *   WebSocket upgrade; unless it is in `rpc.corsOrigins`, the request is refused, not run
 *   (CORS alone only hides the answer from the page, after the request was executed).
 * - `Content-Type: application/json` on POST: a page can send text/plain cross-site without
 *   a preflight; it cannot send application/json without one.
 * Each check answers a typed JouleError (for the response and the metrics) or undefined.
 */
import { isIP } from 'node:net';
import { ErrorCode, JouleError } from '../../core/errors.ts';

/** Hosts accepted when the config names none. */
export const DEFAULT_HOSTS: readonly string[] = ['localhost'];

/** The host name of a `Host` header: lower case, without port, brackets or a trailing dot. */
export function hostName(header: string): string {
  let h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    h = end < 0 ? h.slice(1) : h.slice(1, end);
  } else if (h.indexOf(':') === h.lastIndexOf(':')) {
    h = h.split(':')[0]!; // name:port; more than one colon is a bare IPv6 address
  }
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

export interface HostPolicy {
  readonly any: boolean;
  readonly names: ReadonlySet<string>;
}

/** `hosts` (or the default), plus the name the server binds to (clients reach it by that name); `'*'` accepts any host. */
export function hostPolicy(hosts: readonly string[] | undefined, bindHost: string): HostPolicy {
  const names = new Set((hosts ?? DEFAULT_HOSTS).map(hostName));
  if (isIP(bindHost) === 0) names.add(hostName(bindHost));
  return { any: names.has('*'), names };
}

export function checkHost(header: string | undefined, policy: HostPolicy): JouleError | undefined {
  if (policy.any) return undefined;
  if (header === undefined || header.trim() === '') {
    return new JouleError(ErrorCode.HOST_NOT_ALLOWED, 'a Host header is required', 'Host');
  }
  const name = hostName(header);
  if (isIP(name) !== 0 || policy.names.has(name)) return undefined;
  return new JouleError(ErrorCode.HOST_NOT_ALLOWED, `host "${name.slice(0, 100)}" is not in rpc.hosts`, 'Host');
}

/** The value for `Access-Control-Allow-Origin` when `origin` may use the port, else undefined. */
export function allowedOrigin(origin: string | undefined, corsOrigins: readonly string[]): string | undefined {
  if (origin === undefined) return undefined;
  if (corsOrigins.includes('*')) return '*';
  return corsOrigins.includes(origin) ? origin : undefined;
}

/** A request without `Origin` is not a browser's cross-origin request; one with an origin not allowed is refused. */
export function checkOrigin(origin: string | undefined, corsOrigins: readonly string[]): JouleError | undefined {
  if (origin === undefined || allowedOrigin(origin, corsOrigins) !== undefined) return undefined;
  return new JouleError(ErrorCode.ORIGIN_NOT_ALLOWED, `origin "${origin.slice(0, 100)}" is not in rpc.corsOrigins`, 'Origin');
}

export function checkContentType(header: string | undefined): JouleError | undefined {
  const type = (header ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return undefined;
  return new JouleError(
    ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    header === undefined ? 'Content-Type application/json is required' : `Content-Type must be application/json, got "${type.slice(0, 100)}"`,
    'Content-Type',
  );
}
