import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.ts';
import { decode, decodeExact, encode, encodeExact, type Encodable } from './codec.ts';
import { fastDecode, fastEncode } from './codec-fast.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { bigBoundaries, boundaries, codeOf, encodableArb } from './testing/codec-values.ts';

/** The outcome of decoding, comparable across the two paths: the value's hex re-encoding, or the error's code. */
function outcome(f: () => Encodable): string {
  try {
    const v = f();
    return `ok ${toHex(encodeExact(v))} ${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? toHex(x) : x))}`;
  } catch (e) {
    if (!(e instanceof JouleError)) throw e;
    return `${e.code} at ${e.field}`;
  }
}

/** Canonical encodings with one byte changed, cut, or extended: inputs near the valid ones, where the paths could disagree. */
const nearValidArb = fc
  .tuple(encodableArb, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'extend', 'insert'))
  .map(([v, i, byte, how]) => {
    const b = encodeExact(v);
    const at = b.length === 0 ? 0 : i % b.length;
    if (how === 'cut') return b.slice(0, at);
    if (how === 'extend') return Uint8Array.from([...b, byte]);
    if (how === 'insert') return Uint8Array.from([...b.slice(0, at), byte, ...b.slice(at)]);
    const c = Uint8Array.from(b);
    c[at] = byte;
    return c;
  });

/**
 * The fast path (core/codec-fast.ts) against the exact one (msgpackr, then re-encode and
 * compare: the rule as documented): the same bytes for every value, and on every input
 * either the same value or no answer (the exact path then decides). So decode and encode
 * behave as the exact path does, errors included.
 */
describe('the fast path agrees with the exact path', () => {
  it('encodes every value to the same bytes, and refuses exactly what the exact path refuses', () => {
    fc.assert(
      fc.property(encodableArb, (v) => {
        expect(toHex(fastEncode(v)!)).toBe(toHex(encodeExact(v)));
      }),
      { numRuns: 1000 },
    );
    const bad: unknown[] = [1.5, Number.NaN, 2 ** 53, -(2n ** 63n) - 1n, 2n ** 64n, 'a\ud800', '\udc00b', undefined, {}, new Uint16Array(2), [[1.5]], () => 0];
    for (const v of bad) {
      expect(fastEncode(v as Encodable)).toBeUndefined();
      expect(codeOf(() => encode(v as Encodable))).toBe(ErrorCode.CODEC_WRONG_TYPE);
    }
  });

  it("decodes what it decodes to the exact path's value, on valid, near-valid and random input", () => {
    const check = (b: Uint8Array) => {
      const fast = fastDecode(b);
      const exact = outcome(() => decodeExact(b));
      if (fast !== undefined) expect(outcome(() => fast)).toBe(exact);
      expect(outcome(() => decode(b))).toBe(exact);
    };
    fc.assert(
      fc.property(encodableArb, (v) => check(encodeExact(v))),
      { numRuns: 500 },
    );
    fc.assert(fc.property(nearValidArb, check), { numRuns: 3000 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), check), { numRuns: 3000 });
    // Every input of one and two bytes.
    for (let t = 0; t < 256; t++) {
      check(Uint8Array.of(t));
      for (let b = 0; b < 256; b++) check(Uint8Array.of(t, b));
    }
    // Every boundary integer in every integer form it fits (the narrowest accepted, every wider one refused).
    const forms: [number, number, (v: DataView, x: bigint) => void, bigint, bigint][] = [
      [0xcc, 1, (d, x) => d.setUint8(0, Number(x)), 0n, 0xffn],
      [0xcd, 2, (d, x) => d.setUint16(0, Number(x)), 0n, 0xffffn],
      [0xce, 4, (d, x) => d.setUint32(0, Number(x)), 0n, 0xffff_ffffn],
      [0xcf, 8, (d, x) => d.setBigUint64(0, x), 0n, 2n ** 64n - 1n],
      [0xd0, 1, (d, x) => d.setInt8(0, Number(x)), -0x80n, 0x7fn],
      [0xd1, 2, (d, x) => d.setInt16(0, Number(x)), -0x8000n, 0x7fffn],
      [0xd2, 4, (d, x) => d.setInt32(0, Number(x)), -(2n ** 31n), 2n ** 31n - 1n],
      [0xd3, 8, (d, x) => d.setBigInt64(0, x), -(2n ** 63n), 2n ** 63n - 1n],
    ];
    const values = new Set([...boundaries.map(BigInt), ...bigBoundaries, -1n, -31n, -34n, -127n, -128n, -129n, 0x7fffn, 0x8000n, -0x7fffn, -0x8001n]);
    for (const x of values)
      for (const [tag, size, set, min, max] of forms) {
        if (x < min || x > max) continue;
        const b = new Uint8Array(1 + size);
        b[0] = tag;
        set(new DataView(b.buffer, 1), x);
        check(b);
      }
    // Strings, byte strings and arrays of boundary lengths under every header that can hold them.
    for (const n of [0, 1, 15, 16, 31, 32, 255, 256, 65_535, 65_536]) {
      const heads: [number[], number][] = [];
      const len = (tag: number, width: number) => [tag, ...Array.from({ length: width }, (_, i) => (n >>> (8 * (width - 1 - i))) & 0xff)];
      if (n < 32) heads.push([[0xa0 | n], 0x61]);
      if (n < 16) heads.push([[0x90 | n], 0x01]);
      for (const [tag, width, fill] of [
        [0xd9, 1, 0x61],
        [0xda, 2, 0x61],
        [0xdb, 4, 0x61],
        [0xc4, 1, 0],
        [0xc5, 2, 0],
        [0xc6, 4, 0],
        [0xdc, 2, 1],
        [0xdd, 4, 1],
      ] as const)
        if (width === 4 || n < 2 ** (8 * width)) heads.push([len(tag, width), fill]);
      for (const [head, fill] of heads) check(Uint8Array.from([...head, ...new Uint8Array(n).fill(fill)]));
    }
    // Every documented rejection (docs/protocol.md "Encoding"), and a Buffer input giving plain Uint8Array bytes.
    for (const h of [
      'cc05',
      'cd00ff',
      'cf0000000100000000',
      'cf7fffffffffffffff',
      'd001',
      'd1ffff',
      'd2ffff7fff',
      'd3ffffffff80000000',
      'cb3ff0000000000000',
      'ca3fc00000',
      'd90161',
      'c50003010203',
      'dc0000',
      '80',
      '810102',
      'd40100',
      'd6ff00000000',
      'c1',
      'a2c328',
      'a3eda080',
      'a3efbbbf',
      '0101',
      '9201',
      'a36162',
      '',
    ])
      check(fromHex(h));
    expect(decode(Buffer.from('91c40161', 'hex'))).toStrictEqual([Uint8Array.of(0x61)]);
  });
});
