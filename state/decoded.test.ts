import { describe, expect, it } from 'vitest';
import { DecodedRecords } from './decoded.ts';

describe('DecodedRecords', () => {
  it('decodes the same bytes once, and new bytes (a changed record) again', () => {
    let decodes = 0;
    const records = new DecodedRecords((raw: Uint8Array) => {
      decodes++;
      return { first: raw[0]! };
    }, 8);
    const a = new Uint8Array([1, 2]);
    expect(records.of(a)).toEqual({ first: 1 });
    expect(records.of(a)).toBe(records.of(a));
    expect(decodes).toBe(1);
    // Equal content in other bytes is decoded on its own: identity, not content, is the key.
    expect(records.of(new Uint8Array([1, 2]))).toEqual({ first: 1 });
    expect(records.of(new Uint8Array([7]))).toEqual({ first: 7 });
    expect(decodes).toBe(3);
  });

  it('holds at most its limit, forgetting the oldest first', () => {
    let decodes = 0;
    const records = new DecodedRecords((raw: Uint8Array) => {
      decodes++;
      return raw.length;
    }, 2);
    const [a, b, c] = [new Uint8Array(1), new Uint8Array(2), new Uint8Array(3)];
    records.of(a);
    records.of(b);
    records.of(c);
    expect(records.size).toBe(2);
    expect(decodes).toBe(3);
    records.of(c);
    records.of(b);
    expect(decodes).toBe(3);
    records.of(a); // forgotten: decoded again
    expect(decodes).toBe(4);
    expect(records.size).toBe(2);
  });

  it('passes a decoding error on and remembers nothing for those bytes', () => {
    let fail = true;
    const records = new DecodedRecords((raw: Uint8Array) => {
      if (fail) throw new Error('malformed');
      return { n: raw.length };
    }, 4);
    const raw = new Uint8Array(3);
    expect(() => records.of(raw)).toThrow('malformed');
    expect(records.size).toBe(0);
    fail = false;
    expect(records.of(raw)).toEqual({ n: 3 });
  });
});
