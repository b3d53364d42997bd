import { encode } from '../../core/codec.ts';
import { ErrorCode } from '../../core/errors.ts';
import { hex, toNotation, type Notation, type Plain } from './notation.ts';

/** A value and its one canonical encoding. */
export interface EncodingVector {
  name: string;
  value: Notation;
  encoded: string;
}

/** Bytes the canonical decoder refuses, and the error code it refuses them with (written by hand). */
export interface RejectedEncodingVector {
  name: string;
  encoded: string;
  error: string;
}

const int = (name: string, v: bigint | number): [string, Plain] => [name, v];

/** Every form the encoding uses, at each boundary between two forms. */
const VALUES: readonly [string, Plain][] = [
  int('int 0 (positive fixint)', 0),
  int('int 127 (largest positive fixint)', 127),
  int('int 128 (uint8)', 128),
  int('int 255 (largest uint8)', 255),
  int('int 256 (uint16)', 256),
  int('int 65535 (largest uint16)', 65_535),
  int('int 65536 (uint32)', 65_536),
  int('int 2^32-1 (largest uint32)', 2 ** 32 - 1),
  int('int 2^32 (int64, not uint64)', 2n ** 32n),
  int('int 2^53-1 (largest nonce or height)', Number.MAX_SAFE_INTEGER),
  int('int 2^63-1 (largest int64)', 2n ** 63n - 1n),
  int('int 2^63 (uint64)', 2n ** 63n),
  int('int 2^64-1 (largest integer)', 2n ** 64n - 1n),
  int('int -1 (negative fixint)', -1),
  int('int -32 (smallest negative fixint)', -32),
  int('int -33 (int8)', -33),
  int('int -128 (smallest int8)', -128),
  int('int -129 (int16)', -129),
  int('int -32768 (smallest int16)', -32_768),
  int('int -32769 (int32)', -32_769),
  int('int -2^31 (smallest int32)', -(2 ** 31)),
  int('int -2^31-1 (int64)', -(2n ** 31n) - 1n),
  int('int -2^63 (smallest integer)', -(2n ** 63n)),
  ['nil', null],
  ['false', false],
  ['true', true],
  ['empty string (fixstr)', ''],
  ['ASCII string (fixstr)', 'joule-vectors'],
  ['31-byte string (largest fixstr)', 'a'.repeat(31)],
  ['32-byte string (str8)', 'a'.repeat(32)],
  ['non-ASCII string: length in UTF-8 bytes (é is 2 bytes, ⚡ 3)', 'é⚡'],
  ['256-byte string (str16)', 'b'.repeat(256)],
  ['empty bytes (bin8)', new Uint8Array(0)],
  ['20 bytes (bin8)', Uint8Array.from({ length: 20 }, (_, i) => i)],
  ['256 bytes (bin16)', new Uint8Array(256).fill(0xab)],
  ['empty array (fixarray)', []],
  ['nested arrays', [1, [2, [3, []]], 'x', new Uint8Array([0xff]), null, true]],
  ['15 elements (largest fixarray)', new Array(15).fill(0)],
  ['16 elements (array16)', new Array(16).fill(0)],
];

export function encodingVectors(): EncodingVector[] {
  return VALUES.map(([name, v]) => ({ name, value: toNotation(v), encoded: hex(encode(v as never)) }));
}

const { CODEC_NON_CANONICAL: NON_CANONICAL, CODEC_MALFORMED: MALFORMED } = ErrorCode;

/** Each is a way a general-purpose msgpack encoder, or a careless one, can write a value. */
export function rejectedEncodingVectors(): RejectedEncodingVector[] {
  const r = (name: string, encoded: string, error: string): RejectedEncodingVector => ({ name, encoded, error });
  return [
    r('5 as uint8 (wider than needed)', '0xcc05', NON_CANONICAL),
    r('255 as uint16', '0xcd00ff', NON_CANONICAL),
    r('2^32 as uint64 (what most msgpack libraries write; canonical is int64 0xd3)', '0xcf0000000100000000', NON_CANONICAL),
    r('2^63-1 as uint64', '0xcf7fffffffffffffff', NON_CANONICAL),
    r('1 as int8', '0xd001', NON_CANONICAL),
    r('-1 as int16', '0xd1ffff', NON_CANONICAL),
    r('float64 1.0', '0xcb3ff0000000000000', NON_CANONICAL),
    r('float64 1.5', '0xcb3ff8000000000000', NON_CANONICAL),
    r('float32 1.5', '0xca3fc00000', NON_CANONICAL),
    r('"a" under a str8 header', '0xd90161', NON_CANONICAL),
    r('3 bytes under a bin16 header', '0xc50003010203', NON_CANONICAL),
    r('an empty array under an array16 header', '0xdc0000', NON_CANONICAL),
    r('an empty map', '0x80', NON_CANONICAL),
    r('a map {1: 2}', '0x810102', NON_CANONICAL),
    r('an extension value of an unknown type (fixext1, type 1)', '0xd40100', MALFORMED),
    r('a timestamp extension', '0xd6ff00000000', NON_CANONICAL),
    r('the never-used byte 0xc1', '0xc1', NON_CANONICAL),
    r('invalid UTF-8 in a string', '0xa2c328', NON_CANONICAL),
    r('a lone surrogate (CESU-8) in a string', '0xa3eda080', NON_CANONICAL),
    r('two values (trailing bytes)', '0x0101', MALFORMED),
    r('an array of 2 with one element', '0x9201', MALFORMED),
    r('a string cut short', '0xa3616263'.slice(0, 8), MALFORMED),
    r('nothing', '0x', MALFORMED),
  ];
}
