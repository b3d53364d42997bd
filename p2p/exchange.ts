/**
 * One exchange per stream, shared by the request/response protocols (reqresp.ts) and
 * direct messages (direct.ts): the client writes its request frames and closes its side;
 * the server answers with a header frame [code u8][utf-8 detail], possibly followed by
 * more frames, and closes. Codes: 0 ok, 1 rate limited, 2 bad request, 3 unavailable.
 */
import type { Stream } from '@libp2p/interface';
import { ErrorCode, JouleError, isJouleError } from '../core/errors.ts';
import { utf8, utf8Text } from '../core/bytes.ts';
import { FrameReader, writeFrames } from './framing.ts';

export const Code = { OK: 0, RATE_LIMITED: 1, BAD_REQUEST: 2, UNAVAILABLE: 3 } as const;
export type Code = (typeof Code)[keyof typeof Code];

export const MAX_HEADER_BYTES = 1 + 256;

export function header(code: Code, detail = ''): Uint8Array {
  const d = utf8(detail.slice(0, 200));
  const out = new Uint8Array(1 + d.length);
  out[0] = code;
  out.set(d, 1);
  return out;
}

/** Aborts the stream when the deadline passes; call the returned function when done. */
export function deadline(stream: Stream, ms: number): () => void {
  const t = setTimeout(() => stream.abort(new JouleError(ErrorCode.UNAVAILABLE, `no answer within ${ms} ms`)), ms);
  return () => clearTimeout(t);
}

/** Server side: sends the answer frames and closes this end. */
export async function respond(stream: Stream, frames: Iterable<Uint8Array>): Promise<void> {
  await writeFrames(stream, frames);
  await stream.close();
}

/**
 * Client side: opens a stream, sends the request frames, checks the answer's header and
 * runs `read` on the rest. Every failure is a JouleError; `what` names the exchange in errors.
 */
export async function exchange<T>(
  open: (signal: AbortSignal) => Promise<Stream>,
  what: string,
  request: readonly Uint8Array[],
  timeoutMs: number,
  read: (head: Uint8Array, r: FrameReader) => Promise<T>,
): Promise<T> {
  const signal = AbortSignal.timeout(timeoutMs);
  let stream: Stream | undefined;
  let clear = (): void => {};
  try {
    stream = await open(signal);
    clear = deadline(stream, timeoutMs);
    await writeFrames(stream, request);
    await stream.close({ signal });
    const reader = new FrameReader(stream);
    const head = await reader.next(MAX_HEADER_BYTES);
    if (head === null || head.length === 0) throw new JouleError(ErrorCode.CODEC_MALFORMED, 'empty response', 'response');
    checkHeader(head);
    return await read(head, reader);
  } catch (e) {
    stream?.abort(e as Error);
    if (isJouleError(e)) throw e;
    throw new JouleError(ErrorCode.UNAVAILABLE, `${what} failed: ${(e as Error).message}`);
  } finally {
    clear();
  }
}

function checkHeader(head: Uint8Array): void {
  const detail = utf8Text(head.subarray(1));
  switch (head[0]) {
    case Code.OK:
      return;
    case Code.RATE_LIMITED:
      throw new JouleError(ErrorCode.RATE_LIMITED, `peer refused: ${detail}`);
    case Code.BAD_REQUEST:
      throw new JouleError(ErrorCode.INVALID_PARAMS, `peer refused: ${detail}`);
    case Code.UNAVAILABLE:
      throw new JouleError(ErrorCode.UNAVAILABLE, `peer refused: ${detail}`);
    default:
      throw new JouleError(ErrorCode.CODEC_MALFORMED, `unknown response code ${head[0]}`, 'response');
  }
}
