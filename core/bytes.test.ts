import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readU64be, u32be, u64be, utf8, utf8Text } from './bytes.ts';

/** The encodings as DataView defines them: what the fast paths must equal. */
const viaDataView = {
  u64: (n: bigint) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, n);
    return b;
  },
  u32: (n: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    return b;
  },
};

describe('fixed-width integers', () => {
  it('u64be of a safe integer is its big-endian u64, and reads back', () => {
    fc.assert(
      fc.property(fc.oneof(fc.maxSafeNat(), fc.constantFrom(0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER)), (n) => {
        expect(u64be(n)).toEqual(viaDataView.u64(BigInt(n)));
        expect(readU64be(u64be(n))).toBe(n);
      }),
    );
  });

  it('u64be of a bigint, and any 8 bytes read as Number(the u64) rounds it', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.nat(8), (n, pad) => {
        expect(u64be(n)).toEqual(viaDataView.u64(n));
        const at = new Uint8Array(pad + 8);
        at.set(viaDataView.u64(n), pad);
        expect(readU64be(at, pad)).toBe(Number(n));
      }),
    );
  });

  it('readU64be refuses to read past the end', () => {
    expect(() => readU64be(new Uint8Array(7))).toThrow(RangeError);
    expect(() => readU64be(new Uint8Array(8), 1)).toThrow(RangeError);
  });

  it('u32be is DataView setUint32 (which wraps modulo 2^32)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat({ max: 2 ** 32 - 1 }), fc.integer()), (n) => {
        expect(u32be(n)).toEqual(viaDataView.u32(n));
      }),
    );
  });

  it('utf8 is the UTF-8 bytes of the string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(utf8(s)).toEqual(new Uint8Array(Buffer.from(s, 'utf8')));
      }),
    );
  });

  it('utf8 of short ASCII strings (its fast path), with one other character anywhere, and around the fast path’s length', () => {
    const ascii = fc.array(fc.integer({ min: 0, max: 0x7f }), { maxLength: 70 }).map((cs) => String.fromCharCode(...cs));
    const other = fc.oneof(fc.integer({ min: 0x80, max: 0xffff }), fc.constantFrom(0xd800, 0xdfff, 0xfeff)).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(ascii, fc.option(fc.tuple(other, fc.nat())), (s, insert) => {
        const t = insert === null ? s : s.slice(0, insert[1] % (s.length + 1)) + insert[0] + s.slice(insert[1] % (s.length + 1));
        expect(utf8(t)).toEqual(new Uint8Array(Buffer.from(t, 'utf8')));
      }),
    );
  });

  it('utf8Text decodes as a fresh TextDecoder does, malformed bytes and a leading BOM included, one call independent of the last', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.string({ unit: 'binary' }), (bytes, s) => {
        expect(utf8Text(bytes)).toBe(new TextDecoder().decode(bytes));
        expect(utf8Text(utf8(s))).toBe(new TextDecoder().decode(utf8(s)));
      }),
    );
    // A truncated sequence at the end of one call is not carried into the next.
    expect(utf8Text(new Uint8Array([0xe2, 0x82]))).toBe('\ufffd');
    expect(utf8Text(new Uint8Array([0xac]))).toBe('\ufffd');
  });
});
