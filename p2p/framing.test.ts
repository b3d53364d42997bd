import { describe, expect, it } from 'vitest';
import type { Stream } from '@libp2p/interface';
import { encodeFrame, FrameReader } from './framing.ts';
import { ErrorCode } from '../core/errors.ts';

/** FrameReader only iterates its stream, so a chunk generator stands in for one. */
function fakeStream(chunks: Uint8Array[]): Stream {
  return {
    async *[Symbol.asyncIterator]() {
      yield* chunks;
    },
  } as unknown as Stream;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('framing', () => {
  const payloads = [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(1000).fill(7)];
  const wire = concat(payloads.map(encodeFrame));

  it('reassembles frames split at every possible chunk boundary', async () => {
    for (const size of [1, 2, 3, 5, 7, 64, wire.length]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < wire.length; i += size) chunks.push(wire.subarray(i, i + size));
      const r = new FrameReader(fakeStream(chunks));
      for (const p of payloads) expect(await r.next(2000)).toEqual(p);
      expect(await r.next(2000)).toBeNull();
    }
  });

  it('refuses a frame over the limit from its header alone', async () => {
    const r = new FrameReader(fakeStream([encodeFrame(new Uint8Array(100)).subarray(0, 4)]));
    await expect(r.next(99)).rejects.toMatchObject({ code: ErrorCode.INVALID_PARAMS });
  });

  it('reports a stream that ends mid-frame', async () => {
    const r = new FrameReader(fakeStream([encodeFrame(new Uint8Array(10)).subarray(0, 8)]));
    await expect(r.next(100)).rejects.toMatchObject({ code: ErrorCode.CODEC_MALFORMED });
    const r2 = new FrameReader(fakeStream([new Uint8Array([0, 0])]));
    await expect(r2.next(100)).rejects.toMatchObject({ code: ErrorCode.CODEC_MALFORMED });
  });
});
