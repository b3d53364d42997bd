import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.ts';
import { decode, encode, MAX_DEPTH, readAmount, readArray, readBool, readBytes, readString, readUint, type Encodable } from './codec.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { codeOf, encodableArb, LONE_SURROGATE } from './testing/codec-values.ts';
import { errorOf } from './testing/errors.ts';

/**
 * Property tests of the canonical codec: every Encodable round-trips (up to the documented
 * integer normalisation), and every byte string decode accepts re-encodes to itself.
 */

const INT32_MIN = -(2 ** 31);
const UINT32_MAX = 2 ** 32 - 1;

/** The documented decoded form: integers in [-2^31, 2^32) as number, others as bigint; -0 as 0. */
function normalised(v: Encodable): Encodable {
  if (typeof v === 'number') return v >= INT32_MIN && v <= UINT32_MAX ? (Object.is(v, -0) ? 0 : v) : BigInt(v);
  if (typeof v === 'bigint') return v >= BigInt(INT32_MIN) && v <= BigInt(UINT32_MAX) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(normalised);
  return v;
}

/** Numeric equality across number/bigint; deep over arrays; bytewise over Uint8Array. */
function sameValue(a: Encodable, b: Encodable): boolean {
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return BigInt(a) === BigInt(b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) return toHex(a) === toHex(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]!));
  return a === b;
}

const CODEC_CODES = new Set<string>([ErrorCode.CODEC_MALFORMED, ErrorCode.CODEC_NON_CANONICAL, ErrorCode.CODEC_WRONG_TYPE]);

/** The decode contract on arbitrary input: a codec JouleError, or a value that re-encodes to the input. */
function checkDecodeContract(b: Uint8Array): void {
  let v: Encodable;
  try {
    v = decode(b);
  } catch (e) {
    expect(e).toBeInstanceOf(JouleError);
    expect(CODEC_CODES.has((e as JouleError).code)).toBe(true);
    return;
  }
  expect(toHex(encode(v))).toBe(toHex(b));
}

describe('codec round trips', () => {
  it('decode(encode(v)) equals v up to integer normalisation', () => {
    fc.assert(
      fc.property(encodableArb, (v) => {
        const b = encode(v);
        const d = decode(b);
        expect(sameValue(d, v)).toBe(true);
        // exact decoded form: small integers as number, large as bigint, Uint8Array not Buffer
        expect(d).toStrictEqual(normalised(v));
        expect(toHex(encode(d))).toBe(toHex(b));
      }),
      { numRuns: 400 },
    );
  });

  /**
   * msgpackr's integer forms: [-2^31, 2^32) in the narrowest fixint/uint/int form; beyond
   * that, int64 (0xd3) for anything below 2^63 and uint64 (0xcf) only from 2^63 on. One
   * form per value, which is what canonicality needs.
   */
  it('number and bigint of the same value encode identically, in one fixed form', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        expect(toHex(encode(n))).toBe(toHex(encode(BigInt(n))));
      }),
    );
    const cases: [Encodable, string][] = [
      [0, '00'],
      [127, '7f'],
      [128, 'cc80'],
      [255, 'ccff'],
      [256, 'cd0100'],
      [65535, 'cdffff'],
      [65536, 'ce00010000'],
      [UINT32_MAX, 'ceffffffff'],
      [2 ** 32, 'd30000000100000000'],
      [Number.MAX_SAFE_INTEGER, 'd3001fffffffffffff'],
      [2n ** 63n - 1n, 'd37fffffffffffffff'],
      [2n ** 63n, 'cf8000000000000000'],
      [2n ** 64n - 1n, 'cfffffffffffffffff'],
      [-1, 'ff'],
      [-32, 'e0'],
      [-33, 'd0df'],
      [-128, 'd080'],
      [-129, 'd1ff7f'],
      [-32768, 'd18000'],
      [-32769, 'd2ffff7fff'],
      [INT32_MIN, 'd280000000'],
      [INT32_MIN - 1, 'd3ffffffff7fffffff'],
      [-(2n ** 63n), 'd38000000000000000'],
      [-0, '00'],
      [5n, '05'],
    ];
    for (const [v, hex] of cases) {
      expect(toHex(encode(v)), String(v)).toBe(hex);
      expect(sameValue(decode(fromHex(hex)), v)).toBe(true);
    }
  });

  it('bytes decode as plain Uint8Array, independent of the input buffer', () => {
    const input = encode([new Uint8Array([1, 2, 3])]);
    const d = decode(input) as Encodable[];
    const bytes = d[0] as Uint8Array;
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
    input.fill(0);
    expect([...bytes]).toEqual([1, 2, 3]);
  });

  it('unicode strings round-trip', () => {
    for (const s of ['', 'é', '日本語', '🦄 ⚡ kWh', 'a'.repeat(31), 'a'.repeat(32), 'é'.repeat(16), 'x'.repeat(256), '€'.repeat(30_000)]) {
      expect(decode(encode(s))).toBe(s);
    }
  });
});

describe('encode rejects what has no canonical form', () => {
  it.each<[string, unknown]>([
    ['float', 1.5],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['unsafe integer', 2 ** 53],
    ['bigint above uint64', 2n ** 64n],
    ['bigint below int64', -(2n ** 63n) - 1n],
    ['object', { a: 1 }],
    ['Map', new Map()],
    ['undefined', undefined],
    ['nested float', [1, [2, 0.5]]],
  ])('%s', (_name, v) => {
    expect(codeOf(() => encode(v as Encodable))).toBe(ErrorCode.CODEC_WRONG_TYPE);
  });

  it('strings with a lone surrogate (no UTF-8 form) are rejected, not mangled', () => {
    for (const s of ['\uD800', 'ab\uDC00', 'x'.repeat(40) + '\uDBFF', '\uDC00\uD800']) {
      expect(codeOf(() => encode(s))).toBe(ErrorCode.CODEC_WRONG_TYPE);
    }
    fc.assert(
      // code units mixed with half surrogates: some pair up (valid), some stay alone
      fc.property(
        fc
          .array(
            fc.oneof(
              fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
              fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
            ),
            { maxLength: 12 },
          )
          .map((a) => a.join('')),
        (s) => {
          if (LONE_SURROGATE.test(s)) expect(codeOf(() => encode([s]))).toBe(ErrorCode.CODEC_WRONG_TYPE);
          else expect(decode(encode([s]))).toEqual([s]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('names the path of a nested offender', () => {
    expect(errorOf(() => encode([1, [2, 0.5]] as Encodable)).field).toBe('$[1][1]');
  });
});

describe('decode rejects non-canonical and foreign input', () => {
  it.each<[string, string, string]>([
    // non-minimal integers
    ['5 as int64', 'd30000000000000005', ErrorCode.CODEC_NON_CANONICAL],
    ['5 as uint64', 'cf0000000000000005', ErrorCode.CODEC_NON_CANONICAL],
    ['5 as uint16', 'cd0005', ErrorCode.CODEC_NON_CANONICAL],
    ['5 as uint8', 'cc05', ErrorCode.CODEC_NON_CANONICAL],
    ['5 as uint32', 'ce00000005', ErrorCode.CODEC_NON_CANONICAL],
    ['5 as int8', 'd005', ErrorCode.CODEC_NON_CANONICAL],
    ['200 as uint16', 'cd00c8', ErrorCode.CODEC_NON_CANONICAL],
    ['-1 as int16', 'd1ffff', ErrorCode.CODEC_NON_CANONICAL],
    ['2^32-1 as uint64', 'cf00000000ffffffff', ErrorCode.CODEC_NON_CANONICAL],
    ['-2^31 as int64', 'd3ffffffff80000000', ErrorCode.CODEC_NON_CANONICAL],
    ['2^40 as uint64 (canonical is int64)', 'cf0000010000000000', ErrorCode.CODEC_NON_CANONICAL],
    ['-1 as int64', 'd3ffffffffffffffff', ErrorCode.CODEC_NON_CANONICAL],
    // floats, including integral ones
    ['float32 5.0', 'ca40a00000', ErrorCode.CODEC_NON_CANONICAL],
    ['float64 5.0', 'cb4014000000000000', ErrorCode.CODEC_NON_CANONICAL],
    ['float64 1.5', 'cb3ff8000000000000', ErrorCode.CODEC_NON_CANONICAL],
    ['float64 -0', 'cb8000000000000000', ErrorCode.CODEC_NON_CANONICAL],
    ['float64 NaN', 'cb7ff8000000000000', ErrorCode.CODEC_NON_CANONICAL],
    ['float64 2^53 inside array', '91cb4340000000000000', ErrorCode.CODEC_NON_CANONICAL],
    // maps
    ['empty fixmap', '80', ErrorCode.CODEC_NON_CANONICAL],
    ['fixmap {1: 2}', '810102', ErrorCode.CODEC_NON_CANONICAL],
    ['map16', 'de0000', ErrorCode.CODEC_NON_CANONICAL],
    ['map inside array', '9201810102', ErrorCode.CODEC_NON_CANONICAL],
    // extension types
    ['fixext1 unknown type', 'd40100', 'any'],
    ['fixext4 timestamp', 'd6ff00000000', 'any'],
    ['ext8 bigint', 'c70142' + '05', 'any'],
    ['fixext typed array', 'd5740001', 'any'],
    // non-minimal containers / strings / bytes
    ['array16 of 1', 'dc000101', ErrorCode.CODEC_NON_CANONICAL],
    ['str8 "a"', 'd90161', ErrorCode.CODEC_NON_CANONICAL],
    ['bin16 of 1', 'c5000101', ErrorCode.CODEC_NON_CANONICAL],
    // malformed
    ['empty input', '', ErrorCode.CODEC_MALFORMED],
    ['reserved 0xc1', 'c1', 'any'],
    ['truncated uint16', 'cd01', ErrorCode.CODEC_MALFORMED],
    ['truncated array', '9301', ErrorCode.CODEC_MALFORMED],
    ['truncated bin', 'c40a0102', ErrorCode.CODEC_MALFORMED],
    ['truncated str', 'a3616263'.slice(0, 6), ErrorCode.CODEC_MALFORMED],
  ])('%s (%s)', (_name, hex, code) => {
    const c = codeOf(() => decode(fromHex(hex)));
    // 'any': msgpackr either throws (MALFORMED) or yields a foreign value (NON_CANONICAL)
    if (code === 'any') expect([ErrorCode.CODEC_MALFORMED, ErrorCode.CODEC_NON_CANONICAL]).toContain(c);
    else expect(c).toBe(code);
  });

  it('rejects trailing garbage after a valid value', () => {
    fc.assert(
      fc.property(encodableArb, fc.uint8Array({ minLength: 1, maxLength: 8 }), (v, tail) => {
        const b = encode(v);
        const withTail = new Uint8Array(b.length + tail.length);
        withTail.set(b);
        withTail.set(tail, b.length);
        const c = codeOf(() => decode(withTail));
        expect(c === ErrorCode.CODEC_MALFORMED || c === ErrorCode.CODEC_NON_CANONICAL).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects every strict prefix of a valid encoding', () => {
    fc.assert(
      fc.property(encodableArb, fc.nat(), (v, cut) => {
        const b = encode(v);
        const prefix = b.subarray(0, cut % b.length);
        const c = codeOf(() => decode(prefix));
        expect(c === ErrorCode.CODEC_MALFORMED || c === ErrorCode.CODEC_NON_CANONICAL).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('random bytes: a codec error, or a value that re-encodes to exactly the input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => checkDecodeContract(b)),
      { numRuns: 3000 },
    );
  });

  it('mutated valid encodings: a codec error, or a value that re-encodes to exactly the input', () => {
    fc.assert(
      fc.property(encodableArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), (v, edits) => {
        const b = new Uint8Array(encode(v));
        for (const [at, byte] of edits) b[at % b.length] = byte;
        checkDecodeContract(b);
      }),
      { numRuns: 1000 },
    );
  });

  it('names the caller-given root in its errors', () => {
    expect(errorOf(() => decode(fromHex('cd0005'), 'tx')).field).toBe('tx');
  });

  // Found by the fuzzer (test/fuzz): a few kilobytes of nested one-element arrays made
  // msgpackr or the canonical check overflow the stack, a RangeError instead of a typed
  // rejection (the RPC answered "internal error", a WAL record stopped the node untyped).
  it('deep nesting is a typed rejection at any depth and from any stack depth, never a stack overflow', () => {
    const nested = (depth: number, leaf: number[]) => new Uint8Array([...new Array(depth).fill(0x91), ...leaf]);
    const fromStack = (pad: number, f: () => void): void => (pad === 0 ? f() : fromStack(pad - 1, f));
    const untyped: string[] = [];
    const codes = new Set<string>();
    for (const pad of [0, 1000, 2500]) {
      for (let depth = 33; depth <= 12_000; depth += depth < 4000 ? 997 : 125) {
        for (const leaf of [[0xc0], [0x90], [0x80]]) {
          fromStack(pad, () => {
            try {
              decode(nested(depth, leaf));
              codes.add('decoded');
            } catch (e) {
              if (e instanceof JouleError) codes.add(e.code);
              else untyped.push(`depth ${depth} (stack pad ${pad}): ${(e as Error).name}: ${(e as Error).message}`);
            }
          });
        }
      }
    }
    expect(untyped).toEqual([]);
    expect([...codes]).toEqual([ErrorCode.CODEC_MALFORMED]);
    expect(errorOf(() => decode(nested(100_000, [0xc0]))).code).toBe(ErrorCode.CODEC_MALFORMED);
  });

  it(`nesting: ${MAX_DEPTH} levels round-trip; one more is refused by encode and by decode`, () => {
    const deep = (levels: number): Encodable => (levels === 0 ? 7 : [deep(levels - 1)]);
    const ok = encode(deep(MAX_DEPTH));
    expect(decode(ok)).toEqual(deep(MAX_DEPTH));
    expect(errorOf(() => encode(deep(MAX_DEPTH + 1))).code).toBe(ErrorCode.CODEC_WRONG_TYPE);
    expect(errorOf(() => decode(new Uint8Array([0x91, ...ok]))).code).toBe(ErrorCode.CODEC_MALFORMED);
    // Containers in the middle of a list count where they are: 31 siblings, then one too deep.
    const wide: Encodable = [...new Array(31).fill(1), deep(MAX_DEPTH - 1)];
    expect(decode(encode(wide))).toEqual(wide);
    expect(errorOf(() => decode(new Uint8Array([0xdc, 0x00, 0x02, 0x01, 0x91, ...ok]))).code).toBe(ErrorCode.CODEC_MALFORMED);
  });
});

describe('typed readers name the field they reject', () => {
  const cases: [string, () => unknown, string][] = [
    ['readUint string', () => readUint('5', 'tx.nonce'), 'tx.nonce'],
    ['readUint negative', () => readUint(-1, 'h.height'), 'h.height'],
    ['readUint above 2^53', () => readUint(2n ** 53n, 'h.height'), 'h.height'],
    ['readUint bytes', () => readUint(new Uint8Array(1), 'x.y'), 'x.y'],
    ['readAmount negative bigint', () => readAmount(-(2n ** 40n), 'tx.fee'), 'tx.fee'],
    ['readAmount negative number', () => readAmount(-3, 'tx.fee'), 'tx.fee'],
    ['readAmount null', () => readAmount(null, 'tx.fee'), 'tx.fee'],
    ['readBytes string', () => readBytes('ab', 'tx.body'), 'tx.body'],
    ['readBytes length', () => readBytes(new Uint8Array(31), 'tx.sender', 32), 'tx.sender'],
    ['readArray not array', () => readArray(7, 'tx'), 'tx'],
    ['readArray length', () => readArray([1, 2], 'tx', 7), 'tx'],
    ['readString number', () => readString(1, 'tx.chainId'), 'tx.chainId'],
    ['readString too long', () => readString('x'.repeat(65), 'tx.chainId', 64), 'tx.chainId'],
    ['readBool number', () => readBool(1, 'r.success'), 'r.success'],
  ];
  it.each(cases)('%s', (_name, f, field) => {
    const e = errorOf(f);
    expect(e.code).toBe(ErrorCode.CODEC_WRONG_TYPE);
    expect(e.field).toBe(field);
    expect(e.message).toContain(field);
  });

  it('accept what they should', () => {
    expect(readUint(2n ** 53n - 1n, 'n')).toBe(Number.MAX_SAFE_INTEGER);
    expect(readUint(0, 'n')).toBe(0);
    expect(readAmount(2n ** 64n - 1n, 'a')).toBe(2n ** 64n - 1n);
    expect(readAmount(7, 'a')).toBe(7n);
    expect(readBytes(new Uint8Array(32), 'b', 32).length).toBe(32);
    expect(readArray([1, 2, 3], 'a', 3)).toEqual([1, 2, 3]);
  });
});
