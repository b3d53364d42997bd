/**
 * Length-prefixed framing for the request/response protocols: each frame is a 4-byte
 * big-endian length followed by that many bytes. A fixed-width prefix (rather than a
 * varint) keeps the reader trivial and makes an oversized frame detectable from its
 * first four bytes, before anything is buffered.
 */
import type { Stream } from '@libp2p/interface';
import { ErrorCode, JouleError } from '../core/errors.ts';

export const FRAME_HEADER_BYTES = 4;
const MAX_FRAME_LIMIT = 0xffff_ffff;

export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > MAX_FRAME_LIMIT) throw new JouleError(ErrorCode.INVALID_PARAMS, 'frame too large', 'payload');
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** Sends frames, respecting the stream's backpressure (send() returning false means "wait for drain"). */
export async function writeFrames(stream: Stream, payloads: Iterable<Uint8Array>): Promise<void> {
  for (const p of payloads) {
    if (!stream.send(encodeFrame(p))) await stream.onDrain();
  }
}

/**
 * Reads frames from a stream. Chunks arrive in arbitrary sizes (Uint8Array or
 * Uint8ArrayList; both have subarray()), so bytes are buffered until a whole frame is in.
 */
export class FrameReader {
  private readonly iterator: AsyncIterator<{ subarray(): Uint8Array }>;
  private buffered: Uint8Array[] = [];
  private bufferedBytes = 0;
  private done = false;

  constructor(stream: Stream) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  /**
   * The next frame, or null on a clean end of stream between frames. A frame whose
   * declared length exceeds maxBytes, or a stream ending mid-frame, is a typed error.
   */
  async next(maxBytes: number): Promise<Uint8Array | null> {
    if (!(await this.fill(FRAME_HEADER_BYTES))) {
      if (this.bufferedBytes === 0) return null;
      throw new JouleError(ErrorCode.CODEC_MALFORMED, 'stream ended inside a frame header', 'frame');
    }
    const header = this.peek(FRAME_HEADER_BYTES);
    const length = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(0);
    if (length > maxBytes) {
      throw new JouleError(ErrorCode.INVALID_PARAMS, `frame of ${length} bytes exceeds the limit of ${maxBytes}`, 'frame');
    }
    if (!(await this.fill(FRAME_HEADER_BYTES + length))) {
      throw new JouleError(ErrorCode.CODEC_MALFORMED, 'stream ended inside a frame', 'frame');
    }
    const all = this.take(FRAME_HEADER_BYTES + length);
    return all.subarray(FRAME_HEADER_BYTES);
  }

  /** Pulls chunks until at least n bytes are buffered; false if the stream ended first. */
  private async fill(n: number): Promise<boolean> {
    while (this.bufferedBytes < n) {
      if (this.done) return false;
      const r = await this.iterator.next();
      if (r.done === true) {
        this.done = true;
        return false;
      }
      const chunk = r.value.subarray();
      if (chunk.length === 0) continue;
      this.buffered.push(chunk);
      this.bufferedBytes += chunk.length;
    }
    return true;
  }

  private peek(n: number): Uint8Array {
    const first = this.buffered[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return this.concat(n, false);
  }

  private take(n: number): Uint8Array {
    return this.concat(n, true);
  }

  private concat(n: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(n);
    let off = 0;
    let i = 0;
    while (off < n) {
      const c = this.buffered[i]!;
      const want = Math.min(n - off, c.length);
      out.set(c.subarray(0, want), off);
      off += want;
      if (consume && want < c.length) {
        this.buffered[i] = c.subarray(want);
      } else {
        i++;
      }
    }
    if (consume) {
      this.buffered = this.buffered.slice(i);
      this.bufferedBytes -= n;
    }
    return out;
  }
}
