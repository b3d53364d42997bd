/**
 * Request/response protocols, both over length-prefixed frames (framing.ts):
 *
 *   /joule/<chainId>/blocks/1   request: [from u64be][to u64be]
 *                               response: header frame, then one frame per item, then EOF
 *   /joule/<chainId>/status/1   request: one empty frame
 *                               response: header frame [0][height u64be][hash bytes]
 *
 * The header frame and the one-exchange-per-stream pattern are exchange.ts's.
 */
import type { Libp2p, PeerId, Stream } from '@libp2p/interface';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { readU64be, u64be } from '../core/bytes.ts';
import { FrameReader } from './framing.ts';
import { Code, deadline, exchange, header, respond } from './exchange.ts';
import type { PeerRateLimiter } from './rate-limit.ts';
import type { BlockRangeProvider, P2PLogger, PeerStatus, StatusProvider, SyncLimits } from './types.ts';

export const blocksProtocol = (chainId: string): string => `/joule/${chainId}/blocks/1`;
export const statusProtocol = (chainId: string): string => `/joule/${chainId}/status/1`;

const MAX_HASH_BYTES = 64;
const BLOCKS_REQUEST_BYTES = 16;

// ---------------------------------------------------------------- server side

export interface ServerDeps {
  readonly limits: SyncLimits;
  readonly rateLimiter: PeerRateLimiter;
  readonly serveBlocks: BlockRangeProvider | undefined;
  readonly serveStatus: StatusProvider | undefined;
  readonly log: P2PLogger;
}

/** Reads the request after the rate check, so a flooding peer costs us no parsing. */
async function serve(stream: Stream, peer: string, deps: ServerDeps, maxRequest: number, answer: (req: Uint8Array) => Promise<Uint8Array[]>): Promise<void> {
  const done = deadline(stream, deps.limits.requestTimeoutMs);
  try {
    if (!deps.rateLimiter.tryTake(peer)) {
      deps.log.debug({ peer, protocol: stream.protocol }, 'p2p request rate limited');
      await respond(stream, [header(Code.RATE_LIMITED, 'too many requests')]);
      return;
    }
    const req = await new FrameReader(stream).next(maxRequest);
    if (req === null) throw new JouleError(ErrorCode.CODEC_MALFORMED, 'no request', 'request');
    await respond(stream, await answer(req));
  } catch (e) {
    deps.log.debug({ peer, protocol: stream.protocol, err: (e as Error).message }, 'p2p request failed');
    stream.abort(e as Error);
  } finally {
    done();
  }
}

export function handleBlocks(stream: Stream, peer: string, deps: ServerDeps): Promise<void> {
  return serve(stream, peer, deps, BLOCKS_REQUEST_BYTES, async (req) => {
    if (req.length !== BLOCKS_REQUEST_BYTES) return [header(Code.BAD_REQUEST, 'request must be 16 bytes')];
    const from = readU64be(req, 0);
    const to = readU64be(req, 8);
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from > to) return [header(Code.BAD_REQUEST, 'need from <= to')];
    if (deps.serveBlocks === undefined) return [header(Code.UNAVAILABLE, 'blocks not served')];
    const limit = Math.min(to - from + 1, deps.limits.maxBlocksPerRequest);
    let items: readonly Uint8Array[];
    try {
      items = await deps.serveBlocks(from, to, limit);
    } catch (e) {
      deps.log.warn({ peer, from, to, err: (e as Error).message }, 'block provider failed');
      return [header(Code.UNAVAILABLE, 'internal error')];
    }
    const out = [header(Code.OK)];
    let total = 0;
    for (const item of items.slice(0, limit)) {
      // Stop early rather than exceed the response budget; the client asks again from
      // where this left off. An oversized item cannot be served at all.
      if (item.length > deps.limits.maxItemBytes) break;
      if (out.length > 1 && total + item.length > deps.limits.maxResponseBytes) break;
      total += item.length;
      out.push(item);
    }
    return out;
  });
}

export function handleStatus(stream: Stream, peer: string, deps: ServerDeps): Promise<void> {
  return serve(stream, peer, deps, 0, async () => {
    if (deps.serveStatus === undefined) return [header(Code.UNAVAILABLE, 'status not served')];
    const s = await deps.serveStatus();
    const body = new Uint8Array(1 + 8 + s.hash.length);
    body[0] = Code.OK;
    body.set(u64be(s.height), 1);
    body.set(s.hash, 9);
    return [body];
  });
}

// ---------------------------------------------------------------- client side

/** One request frame out, the answer read by `read`; every failure is a JouleError. */
function request<T>(
  libp2p: Libp2p,
  peer: PeerId,
  protocol: string,
  req: Uint8Array,
  timeoutMs: number,
  read: (head: Uint8Array, r: FrameReader) => Promise<T>,
): Promise<T> {
  return exchange((signal) => libp2p.dialProtocol(peer, protocol, { signal }), `${protocol} to ${peer.toString()}`, [req], timeoutMs, read);
}

export async function requestBlocks(libp2p: Libp2p, peer: PeerId, chainId: string, from: number, to: number, limits: SyncLimits): Promise<Uint8Array[]> {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to) {
    throw new JouleError(ErrorCode.INVALID_PARAMS, `bad height range ${from}..${to}`, 'from');
  }
  // Ask for no more than this node accepts, so a server with a larger per-request limit
  // does not trip our own check below.
  const maxItems = Math.min(to - from + 1, limits.maxBlocksPerRequest);
  const req = new Uint8Array(BLOCKS_REQUEST_BYTES);
  req.set(u64be(from), 0);
  req.set(u64be(from + maxItems - 1), 8);
  const maxTotal = Math.max(limits.maxResponseBytes, limits.maxItemBytes);
  return request(libp2p, peer, blocksProtocol(chainId), req, limits.requestTimeoutMs, async (_head, reader) => {
    const items: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const item = await reader.next(limits.maxItemBytes);
      if (item === null) return items;
      total += item.length;
      if (items.length >= maxItems || total > maxTotal) {
        throw new JouleError(ErrorCode.CODEC_MALFORMED, `peer sent more than ${maxItems} items or ${maxTotal} bytes`, 'response');
      }
      items.push(item);
    }
  });
}

export async function requestStatus(libp2p: Libp2p, peer: PeerId, chainId: string, timeoutMs: number): Promise<PeerStatus> {
  // The status body rides in the header frame: [0][height u64be][hash].
  return request(libp2p, peer, statusProtocol(chainId), new Uint8Array(0), timeoutMs, async (head) => {
    const body = head.subarray(1);
    if (body.length < 8 || body.length > 8 + MAX_HASH_BYTES) {
      throw new JouleError(ErrorCode.CODEC_MALFORMED, `status body of ${body.length} bytes`, 'response');
    }
    const height = readU64be(body, 0);
    if (!Number.isSafeInteger(height)) throw new JouleError(ErrorCode.CODEC_MALFORMED, 'status height out of range', 'response.height');
    return { height, hash: body.slice(8) };
  });
}
