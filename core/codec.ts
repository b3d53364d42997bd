import { Packr, Unpackr } from 'msgpackr';
import { equalBytes } from './bytes.ts';
import { ErrorCode, JouleError } from './errors.ts';

/**
 * The canonical encoding: msgpack (via msgpackr) restricted to fixed-order arrays,
 * integers, byte strings, UTF-8 strings, booleans and nil. No maps, no floats, no
 * extensions. Integers use the narrowest msgpack form for their value, whatever their JS
 * type (number or bigint), so each value has exactly one encoding; `decode` rejects any
 * input that does not re-encode to the same bytes.
 */
export type Encodable = null | boolean | number | bigint | string | Uint8Array | readonly Encodable[];

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: false });

const INT32_MIN = -(2 ** 31);
const UINT32_MAX = 2 ** 32 - 1;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * msgpackr writes numbers outside [-2^31, 2^32) as float64 and every bigint as 64-bit;
 * mapping by value (small -> number, large -> bigint) gives the narrowest integer form.
 */
function normalise(v: unknown, path: string): unknown {
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
        const out = new Array(v.length);
        for (let i = 0; i < v.length; i++) out[i] = normalise(v[i], `${path}[${i}]`);
        return out;
      }
      throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, 'only arrays, integers, bytes, strings, booleans and nil are encodable', path);
    }
    default:
      throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, `type ${typeof v} is not encodable`, path);
  }
}

export function encode(value: Encodable): Uint8Array {
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

/** Decodes canonical bytes; throws CODEC_MALFORMED or CODEC_NON_CANONICAL otherwise. */
export function decode(bytes: Uint8Array, what = '$'): Encodable {
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
    again = encode(value as Encodable);
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
