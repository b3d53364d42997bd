import { Packr, Unpackr } from 'msgpackr';
import { equalBytes } from './bytes.ts';
import { fastDecode, fastEncode } from './codec-fast.ts';
import { ErrorCode, JouleError } from './errors.ts';

/**
 * The canonical encoding: msgpack (via msgpackr) restricted to fixed-order arrays,
 * integers, byte strings, UTF-8 strings, booleans and nil. No maps, no floats, no
 * extensions. Integers use the narrowest msgpack form for their value, whatever their JS
 * type (number or bigint), so each value has exactly one encoding; `decode` rejects any
 * input that does not re-encode to the same bytes. Both directions take a one-pass fast
 * path (core/codec-fast.ts) for input that is what it should be, and this exact path for
 * the rest (and its errors).
 */
export type Encodable = null | boolean | number | bigint | string | Uint8Array | readonly Encodable[];

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: false });

/**
 * Deepest nesting of arrays a value may have (the deepest schema, a QBFT message carrying a
 * justification, has four levels). Both directions enforce it: `encode` refuses a deeper
 * value, `decode` a deeper input before msgpackr recurses into it, so that a few kilobytes
 * of nested-array headers are a typed rejection rather than a stack overflow (a RangeError
 * at a depth that depends on how deep the caller's stack already was).
 */
export const MAX_DEPTH = 32;

const INT32_MIN = -(2 ** 31);
const UINT32_MAX = 2 ** 32 - 1;
const INT64_MIN = -(2n ** 63n);
/** The largest integer the codec encodes: every amount (balances, supply, volumes) stays within it. */
export const UINT64_MAX = 2n ** 64n - 1n;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * msgpackr writes numbers outside [-2^31, 2^32) as float64 and every bigint as 64-bit;
 * mapping by value (small -> number, large -> bigint) gives the narrowest integer form.
 */
function normalise(v: unknown, path: string, depth = 0): unknown {
  switch (typeof v) {
    case 'number':
      if (!Number.isSafeInteger(v)) throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, `not a safe integer: ${v}`, path);
      if (Object.is(v, -0)) return 0;
      return v >= INT32_MIN && v <= UINT32_MAX ? v : BigInt(v);
    case 'bigint':
      if (v < INT64_MIN || v > UINT64_MAX) throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, 'integer out of 64-bit range', path);
      return v >= BigInt(INT32_MIN) && v <= BigInt(UINT32_MAX) ? Number(v) : v;
    case 'string':
      // A lone surrogate has no UTF-8 form: msgpackr would write bytes that decode rejects.
      if (LONE_SURROGATE.test(v)) throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, 'string is not well-formed UTF-16 (lone surrogate)', path);
      return v;
    case 'boolean':
      return v;
    case 'object': {
      if (v === null) return null;
      if (v instanceof Uint8Array) return v;
      if (Array.isArray(v)) {
        if (depth >= MAX_DEPTH) throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, `arrays nested deeper than ${MAX_DEPTH} levels`, path);
        const out = new Array(v.length);
        for (let i = 0; i < v.length; i++) out[i] = normalise(v[i], `${path}[${i}]`, depth + 1);
        return out;
      }
      throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, 'only arrays, integers, bytes, strings, booleans and nil are encodable', path);
    }
    default:
      throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, `type ${typeof v} is not encodable`, path);
  }
}

export function encode(value: Encodable): Uint8Array {
  return fastEncode(value) ?? encodeExact(value);
}

/**
 * The exact path: normalise, then msgpackr's pack. encode takes it only for a value the
 * fast path refuses, so that the error names the field as it always did; tests compare the
 * two paths' bytes.
 */
export function encodeExact(value: Encodable): Uint8Array {
  const b = packr.pack(normalise(value, '$'));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Walks a decoded tree; floats, maps and extensions make the input invalid. */
function checkDecoded(v: unknown, path: string): void {
  switch (typeof v) {
    case 'number':
      if (!Number.isInteger(v)) throw new JouleError(ErrorCode.CODEC_NON_CANONICAL, 'floats are not allowed', path);
      return;
    case 'bigint':
    case 'string':
    case 'boolean':
      return;
    case 'object':
      if (v === null || v instanceof Uint8Array) return;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) checkDecoded(v[i], `${path}[${i}]`);
        return;
      }
      throw new JouleError(ErrorCode.CODEC_NON_CANONICAL, 'maps and extension types are not allowed', path);
    default:
      throw new JouleError(ErrorCode.CODEC_NON_CANONICAL, `type ${typeof v} is not allowed`, path);
  }
}

/**
 * Walks the msgpack headers of `b` (without decoding anything) and rejects containers
 * nested deeper than MAX_DEPTH. Everything else it leaves for msgpackr and the canonical
 * check to report, as they always did: it skips extension values whole (the canonical
 * check refuses whatever msgpackr makes of them, before looking inside), and stops at
 * anything it cannot read.
 */
function checkDepth(b: Uint8Array, what: string): void {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const open: number[] = []; // elements still to read in each open container
  let i = 0;
  while (i < b.length) {
    const t = b[i]!;
    let elements = -1; // a container's element count; -1 for a scalar
    let size = 1;
    if (t >= 0x80 && t <= 0x8f) elements = 2 * (t & 0x0f);
    else if (t >= 0x90 && t <= 0x9f) elements = t & 0x0f;
    else if (t >= 0xa0 && t <= 0xbf) size = 1 + (t & 0x1f);
    else if (t === 0xcc || t === 0xd0) size = 2;
    else if (t === 0xcd || t === 0xd1) size = 3;
    else if (t === 0xce || t === 0xd2 || t === 0xca) size = 5;
    else if (t === 0xcf || t === 0xd3 || t === 0xcb) size = 9;
    else if (t === 0xc4 || t === 0xd9) size = i + 1 < b.length ? 2 + b[i + 1]! : 2;
    else if (t === 0xc5 || t === 0xda) size = i + 3 <= b.length ? 3 + view.getUint16(i + 1) : 3;
    else if (t === 0xc6 || t === 0xdb) size = i + 5 <= b.length ? 5 + view.getUint32(i + 1) : 5;
    else if (t === 0xdc || t === 0xde) {
      if (i + 3 > b.length) return;
      elements = view.getUint16(i + 1) * (t === 0xde ? 2 : 1);
      size = 3;
    } else if (t === 0xdd || t === 0xdf) {
      if (i + 5 > b.length) return;
      elements = view.getUint32(i + 1) * (t === 0xdf ? 2 : 1);
      size = 5;
    } else if (t >= 0xd4 && t <= 0xd8)
      size = 2 + 2 ** (t - 0xd4); // fixext 1..16: type byte, then the data
    else if (t === 0xc7) size = i + 1 < b.length ? 3 + b[i + 1]! : 3;
    else if (t === 0xc8) size = i + 3 <= b.length ? 4 + view.getUint16(i + 1) : 4;
    else if (t === 0xc9) size = i + 5 <= b.length ? 6 + view.getUint32(i + 1) : 6;
    else if (t === 0xc1) return;
    // else: positive/negative fixint, nil, booleans (size 1)
    i += size;
    if (elements >= 0) {
      if (open.length >= MAX_DEPTH) throw new JouleError(ErrorCode.CODEC_MALFORMED, `arrays nested deeper than ${MAX_DEPTH} levels`, what);
      if (elements > 0) {
        open.push(elements);
        continue;
      }
    }
    // One item is complete: count it in its container, closing every container it completes.
    for (;;) {
      if (open.length === 0) return; // the top-level value ends here (anything after it is msgpackr's to report)
      const left = open[open.length - 1]! - 1;
      if (left > 0) {
        open[open.length - 1] = left;
        break;
      }
      open.pop();
    }
  }
}

/** Decodes canonical bytes; throws CODEC_MALFORMED or CODEC_NON_CANONICAL otherwise. */
export function decode(bytes: Uint8Array, what = '$'): Encodable {
  return fastDecode(bytes) ?? decodeExact(bytes, what);
}

/**
 * The exact path, the rule as docs/protocol.md states it: msgpackr's unpack, then the
 * value must re-encode to the same bytes. decode takes it only for input the fast path
 * refuses, so every error is the one it always was; tests compare the two paths.
 */
export function decodeExact(bytes: Uint8Array, what = '$'): Encodable {
  checkDepth(bytes, what);
  let value: unknown;
  try {
    // msgpackr unpacks bin as views of its input; copy the input so callers may reuse buffers.
    value = unpackr.unpack(Buffer.from(bytes));
  } catch (e) {
    throw new JouleError(ErrorCode.CODEC_MALFORMED, `malformed encoding (${(e as Error).message})`, what);
  }
  checkDecoded(value, what);
  let again: Uint8Array;
  try {
    again = encodeExact(value as Encodable);
  } catch {
    throw new JouleError(ErrorCode.CODEC_NON_CANONICAL, 'value cannot be re-encoded', what);
  }
  if (!equalBytes(again, bytes)) throw new JouleError(ErrorCode.CODEC_NON_CANONICAL, 'non-canonical encoding', what);
  return toUint8Arrays(value) as Encodable;
}

/** Buffers become plain Uint8Arrays so values compare and serialise the same everywhere. */
function toUint8Arrays(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.isBuffer(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = toUint8Arrays(v[i]);
  }
  return v;
}

// ---- typed readers for schema decoders: each names the field it rejects ----

function wrongType(path: string, expected: string): JouleError {
  return new JouleError(ErrorCode.CODEC_WRONG_TYPE, `expected ${expected}`, path);
}

export function readArray(v: Encodable, path: string, length?: number): readonly Encodable[] {
  if (!Array.isArray(v)) throw wrongType(path, 'array');
  if (length !== undefined && v.length !== length) throw wrongType(path, `array of ${length} fields, got ${v.length}`);
  return v;
}

export function readBytes(v: Encodable, path: string, length?: number): Uint8Array {
  if (!(v instanceof Uint8Array)) throw wrongType(path, 'bytes');
  if (length !== undefined && v.length !== length) throw wrongType(path, `${length} bytes, got ${v.length}`);
  return v;
}

export function readString(v: Encodable, path: string, maxLength = 256): string {
  if (typeof v !== 'string') throw wrongType(path, 'string');
  if (v.length > maxLength) throw wrongType(path, `string of at most ${maxLength} characters`);
  return v;
}

export function readBool(v: Encodable, path: string): boolean {
  if (typeof v !== 'boolean') throw wrongType(path, 'boolean');
  return v;
}

/** A non-negative safe integer (heights, nonces, timestamps, indexes). */
export function readUint(v: Encodable, path: string): number {
  if (typeof v === 'number' && v >= 0) return v;
  if (typeof v === 'bigint' && v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  throw wrongType(path, 'non-negative safe integer');
}

/** A non-negative amount as bigint (balances, fees, prices). */
export function readAmount(v: Encodable, path: string): bigint {
  if (typeof v === 'number' && v >= 0) return BigInt(v);
  if (typeof v === 'bigint' && v >= 0n) return v;
  throw wrongType(path, 'non-negative integer amount');
}
