import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes } from '../core/bytes.ts';
import { type LoadedRange, LoadedRanges } from './loaded-ranges.ts';

/**
 * The lookup a LoadedState makes for every listing and every read of an absent key: the
 * range holding the key that reaches furthest, the first added of those that reach as far.
 * Checked against that rule read off every range in turn, with ranges that nest, overlap,
 * touch, share a start or an end, or reach to the end of the key space, added between
 * lookups.
 */

/** The rule, by a scan of every range in the order added. */
function reference(ranges: readonly LoadedRange[], key: Uint8Array): LoadedRange | undefined {
  let best: LoadedRange | undefined;
  for (const r of ranges) {
    if (compareBytes(r.lo, key) > 0 || (r.hi !== undefined && compareBytes(key, r.hi) >= 0)) continue;
    if (best === undefined || (best.hi !== undefined && (r.hi === undefined || compareBytes(r.hi, best.hi) > 0))) best = r;
  }
  return best;
}

/** Short keys over few byte values, so that ranges and keys meet often (0xff: prefix ends). */
const key = fc.uint8Array({ minLength: 0, maxLength: 3 }).map((k) => k.map((b) => [0, 1, 2, 0x7f, 0xff][b % 5]!));
const range = fc.tuple(key, fc.option(key, { nil: undefined })).map(([a, b]): LoadedRange => {
  const [lo, hi] = b !== undefined && compareBytes(b, a) < 0 ? [b, a] : [a, b];
  return { lo, hi, entries: [], ids: [] };
});
const step = fc.oneof(
  range.map((r) => ({ add: r })),
  key.map((k) => ({ find: k })),
);

describe('LoadedRanges', () => {
  it('finds the range the rule names, whatever ranges were added before each lookup', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const ranges = new LoadedRanges();
        const added: LoadedRange[] = [];
        for (const s of steps) {
          if ('add' in s) {
            ranges.add(s.add);
            added.push(s.add);
          } else expect(ranges.at(s.find)).toBe(reference(added, s.find));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('of two ranges that reach as far, the first added; an unbounded one reaches furthest', () => {
    const ranges = new LoadedRanges();
    const a: LoadedRange = { lo: new Uint8Array([1]), hi: new Uint8Array([5]), entries: [], ids: [] };
    const b: LoadedRange = { lo: new Uint8Array([0]), hi: new Uint8Array([5]), entries: [], ids: [] };
    ranges.add(a);
    ranges.add(b);
    expect(ranges.at(new Uint8Array([2]))).toBe(a);
    expect(ranges.at(new Uint8Array([0, 9]))).toBe(b);
    expect(ranges.at(new Uint8Array([5]))).toBeUndefined();
    const c: LoadedRange = { lo: new Uint8Array([3]), hi: undefined, entries: [], ids: [] };
    ranges.add(c);
    expect(ranges.at(new Uint8Array([4]))).toBe(c);
    expect(ranges.at(new Uint8Array([2]))).toBe(a);
    expect(ranges.at(new Uint8Array([0xff, 0xff]))).toBe(c);
  });
});
