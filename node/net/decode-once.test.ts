import { describe, expect, it } from 'vitest';
import { decodeOnce } from './decode-once.ts';

describe('decodeOnce', () => {
  it('decodes a payload object once, and a different object (even with equal bytes) anew', () => {
    let calls = 0;
    const decode = decodeOnce((b: Uint8Array) => {
      calls++;
      return { first: b[0] };
    });
    const a = new Uint8Array([7]);
    expect(decode(a)).toBe(decode(a));
    expect(calls).toBe(1);
    expect(decode(new Uint8Array([7]))).toEqual({ first: 7 });
    expect(calls).toBe(2);
  });

  it('remembers nothing when decoding throws', () => {
    let calls = 0;
    const decode = decodeOnce((): object => {
      calls++;
      throw new Error('bad');
    });
    const a = new Uint8Array([1]);
    expect(() => decode(a)).toThrow('bad');
    expect(() => decode(a)).toThrow('bad');
    expect(calls).toBe(2);
  });
});
