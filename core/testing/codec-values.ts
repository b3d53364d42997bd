import fc from 'fast-check';
import type { Encodable } from '../codec.ts';
import { JouleError } from '../errors.ts';

/**
 * Test-only: the values the codec's tests draw from (core/codec.test.ts, the rule;
 * core/codec-fast.test.ts, the fast path against the exact one): integers at every form's
 * boundary, strings with and without multi-byte characters, bytes, and trees of them.
 */

export const boundaries: number[] = [];
for (const p of [7, 8, 15, 16, 31, 32, 53]) {
  const base = 2 ** p;
  for (const d of [-1, 0, 1]) {
    for (const s of [1, -1]) {
      const n = s * (base + d);
      if (Number.isSafeInteger(n)) boundaries.push(n);
    }
  }
}
boundaries.push(0, -32, -33, 127, 128, 255, 256, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER);

export const bigBoundaries: bigint[] = [
  2n ** 64n - 1n,
  2n ** 64n - 2n,
  2n ** 63n,
  2n ** 63n - 1n,
  -(2n ** 63n),
  -(2n ** 63n) + 1n,
  2n ** 53n,
  -(2n ** 53n),
  2n ** 32n,
  2n ** 32n - 1n,
  -(2n ** 31n),
  -(2n ** 31n) - 1n,
  0n,
  5n,
];

const integerArb: fc.Arbitrary<number | bigint> = fc.oneof(
  fc.constantFrom(...boundaries),
  fc.constantFrom(...bigBoundaries),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
  fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }),
);

export const LONE_SURROGATE = /\p{Cs}/u;
/** Well-formed strings only: a lone surrogate has no UTF-8 form (encode rejects it, tested below). */
const stringArb = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 300 }).filter((s) => !LONE_SURROGATE.test(s)),
);

const leafArb: fc.Arbitrary<Encodable> = fc.oneof(fc.constant(null), fc.boolean(), integerArb, stringArb, fc.uint8Array({ maxLength: 300 }));

export const { tree: encodableArb } = fc.letrec<{ tree: Encodable }>((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafArb, fc.array(tie('tree'), { maxLength: 20 })),
}));

export function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (!(e instanceof JouleError)) throw e;
    return e.code;
  }
  return undefined;
}
