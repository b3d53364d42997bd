import { describe, expect, it } from 'vitest';
import { encodedElement } from './codec-walk.ts';
import { decode, encode, type Encodable } from './codec.ts';

const big = 'x'.repeat(70_000);
/** Every form codec.ts writes: fixints, 8-64 bit ints, negative ints, strings and bins of every length class, nil, booleans, arrays of 16-bit length. */
const sample: Encodable[] = [
  0,
  127,
  -1,
  -33,
  200,
  -200,
  70_000,
  -70_000,
  2n ** 40n,
  -(2n ** 40n),
  'short',
  'y'.repeat(40),
  'z'.repeat(300),
  big,
  new Uint8Array(3),
  new Uint8Array(300),
  new Uint8Array(70_000),
  null,
  true,
  false,
  [],
  [1, [2, [3, 'deep']], new Uint8Array([9])],
  Array.from({ length: 20 }, (_, i) => i * 1000),
];

describe('encodedElement', () => {
  const bytes = encode(sample);

  it('finds every element, nested ones too, as the exact bytes of its encoding', () => {
    sample.forEach((v, i) => {
      const got = encodedElement(bytes, [i]);
      expect(got).toBeDefined();
      expect(Buffer.compare(got!, encode(v))).toBe(0);
    });
    expect(decode(encodedElement(bytes, [21, 1, 1, 1])!)).toBe('deep');
    expect(decode(encodedElement(bytes, [22, 19])!)).toBe(19_000);
    expect(Buffer.compare(encodedElement(bytes, [])!, bytes)).toBe(0);
  });

  it('answers undefined past the end of an array', () => {
    expect(encodedElement(bytes, [sample.length])).toBeUndefined();
    expect(encodedElement(bytes, [20, 0])).toBeUndefined();
    expect(encodedElement(bytes, [-1])).toBeUndefined();
  });

  it('refuses a non-array on the path, truncated input and types the codec never writes', () => {
    expect(() => encodedElement(bytes, [0, 0], 'block')).toThrow(expect.objectContaining({ code: 'CODEC_WRONG_TYPE', field: 'block[0]' }));
    expect(() => encodedElement(bytes.subarray(0, bytes.length - 10), [22])).toThrow(expect.objectContaining({ code: 'CODEC_MALFORMED' }));
    expect(() => encodedElement(new Uint8Array([0x92, 0x01, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0]), [1])).toThrow(expect.objectContaining({ code: 'CODEC_MALFORMED' }));
    expect(() => encodedElement(new Uint8Array([0x91, 0x81, 0x01, 0x02]), [0])).toThrow(expect.objectContaining({ code: 'CODEC_MALFORMED' }));
    expect(() => encodedElement(new Uint8Array([0xdc, 0xff]), [0])).toThrow(expect.objectContaining({ code: 'CODEC_MALFORMED' }));
  });
});
