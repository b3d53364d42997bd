/**
 * The canonical codec's fast path (core/codec.ts): one pass over a value or its bytes,
 * for the inputs that are what they should be. It writes exactly the bytes the exact path
 * (msgpackr, after normalising integers) writes, and accepts only what the exact path
 * accepts, with the same value; anything else (an error to report, a form it does not
 * know) is `undefined`, and the exact path decides and names the error. core/codec.test.ts
 * checks both promises on random values and on random and mutated inputs.
 *
 * The forms (docs/protocol.md "Encoding"): integers in [-2^31, 2^32) in the narrowest of
 * fixint, uint8/16/32, int8/16/32, others int64 (0xd3) up to 2^63-1 and uint64 (0xcf) from
 * 2^63; strings, byte strings and arrays under the narrowest header for their length; nil
 * and booleans. Nothing else.
 */

/** core/codec.ts's Encodable (the same type, declared here so the two files do not import each other). */
type Encodable = null | boolean | number | bigint | string | Uint8Array | readonly Encodable[];

const INT32_MIN = -(2 ** 31);
const UINT32_MAX = 2 ** 32 - 1;
const BIG_INT32_MIN = -(2n ** 31n);
const BIG_UINT32_MAX = 2n ** 32n - 1n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** The writer's buffer, reused across calls; each result is copied out. */
let buf = new Uint8Array(4096);
let view = new DataView(buf.buffer);
let pos = 0;

function room(n: number): void {
  if (pos + n <= buf.length) return;
  let size = buf.length * 2;
  while (size < pos + n) size *= 2;
  const next = new Uint8Array(size);
  next.set(buf.subarray(0, pos));
  buf = next;
  view = new DataView(buf.buffer);
}

function writeInt(v: number): void {
  room(9);
  if (v >= 0) {
    if (v < 0x80) buf[pos++] = v;
    else if (v < 0x100) {
      buf[pos++] = 0xcc;
      buf[pos++] = v;
    } else if (v < 0x10000) {
      buf[pos++] = 0xcd;
      view.setUint16(pos, v);
      pos += 2;
    } else {
      buf[pos++] = 0xce;
      view.setUint32(pos, v);
      pos += 4;
    }
  } else if (v >= -0x20) buf[pos++] = v & 0xff;
  else if (v >= -0x80) {
    buf[pos++] = 0xd0;
    view.setInt8(pos++, v);
  } else if (v >= -0x8000) {
    buf[pos++] = 0xd1;
    view.setInt16(pos, v);
    pos += 2;
  } else {
    buf[pos++] = 0xd2;
    view.setInt32(pos, v);
    pos += 4;
  }
}

/** A 64-bit integer outside [-2^31, 2^32). */
function writeBig(v: bigint): void {
  room(9);
  if (v <= INT64_MAX) {
    buf[pos++] = 0xd3;
    view.setBigInt64(pos, v);
  } else {
    buf[pos++] = 0xcf;
    view.setBigUint64(pos, v);
  }
  pos += 8;
}

/** A header of one of three widths: `fix` (a base or'ed with n below `fixLimit`) or 8/16/32-bit lengths. */
function writeHeader(n: number, fixBase: number, fixLimit: number, h8: number, h16: number, h32: number): void {
  room(5);
  if (n < fixLimit) buf[pos++] = fixBase | n;
  else if (h8 !== 0 && n < 0x100) {
    buf[pos++] = h8;
    buf[pos++] = n;
  } else if (n < 0x10000) {
    buf[pos++] = h16;
    view.setUint16(pos, n);
    pos += 2;
  } else {
    buf[pos++] = h32;
    view.setUint32(pos, n);
    pos += 4;
  }
}

/** UTF-8 of `s` with its str header; false for a lone surrogate (no UTF-8 form). */
function writeString(s: string): boolean {
  const n = s.length;
  // The header's width is known only after the bytes: write them after the widest header, then move them.
  room(5 + 3 * n);
  const start = pos + 5;
  let p = start;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) buf[p++] = c;
    else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) return false;
      c = 0x10000 + ((c & 0x3ff) << 10) + (d & 0x3ff);
      i++;
      buf[p++] = 0xf0 | (c >> 18);
      buf[p++] = 0x80 | ((c >> 12) & 0x3f);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    } else {
      buf[p++] = 0xe0 | (c >> 12);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    }
  }
  const length = p - start;
  writeHeader(length, 0xa0, 0x20, 0xd9, 0xda, 0xdb);
  buf.copyWithin(pos, start, p);
  pos += length;
  return true;
}

function writeValue(v: Encodable, depth: number): boolean {
  switch (typeof v) {
    case 'number':
      if (!Number.isSafeInteger(v)) return false;
      if (v >= INT32_MIN && v <= UINT32_MAX) writeInt(v === 0 ? 0 : v);
      else writeBig(BigInt(v));
      return true;
    case 'bigint':
      if (v < INT64_MIN || v > UINT64_MAX) return false;
      if (v >= BIG_INT32_MIN && v <= BIG_UINT32_MAX) writeInt(Number(v));
      else writeBig(v);
      return true;
    case 'string':
      return writeString(v);
    case 'boolean':
      room(1);
      buf[pos++] = v ? 0xc3 : 0xc2;
      return true;
    case 'object':
      if (v === null) {
        room(1);
        buf[pos++] = 0xc0;
        return true;
      }
      if (v instanceof Uint8Array) {
        writeHeader(v.length, 0, 0, 0xc4, 0xc5, 0xc6);
        room(v.length);
        buf.set(v, pos);
        pos += v.length;
        return true;
      }
      if (Array.isArray(v)) {
        if (depth >= MAX_FAST_DEPTH) return false;
        writeHeader(v.length, 0x90, 0x10, 0, 0xdc, 0xdd);
        for (let i = 0; i < v.length; i++) if (!writeValue(v[i]!, depth + 1)) return false;
        return true;
      }
      return false;
    default:
      return false;
  }
}

/** The canonical bytes of `value`, or undefined when it is not encodable (the exact path names why). */
export function fastEncode(value: Encodable): Uint8Array | undefined {
  pos = 0;
  if (!writeValue(value, 0)) return undefined;
  return buf.slice(0, pos);
}

// ---- decoding ----

/** Deeper than this, the exact path decides (it enforces MAX_DEPTH, 32, with its own error). */
const MAX_FAST_DEPTH = 32;

/** Thrown inside the reader when the input is anything but canonical; never escapes fastDecode. */
const NOT_CANONICAL = Symbol('not canonical');

let src: Uint8Array = new Uint8Array(0);
let at = 0;
/** 64-bit integers are read through this (a DataView of each input would cost more than the copy). */
const wide = new Uint8Array(8);
const wideView = new DataView(wide.buffer);

function read64(): DataView {
  need(8);
  wide.set(src.subarray(at, at + 8));
  at += 8;
  return wideView;
}

function need(n: number): void {
  if (at + n > src.length) throw NOT_CANONICAL;
}

function u8(): number {
  need(1);
  return src[at++]!;
}

function u16(): number {
  need(2);
  const v = (src[at]! << 8) | src[at + 1]!;
  at += 2;
  return v;
}

function u32(): number {
  need(4);
  const v = src[at]! * 0x1000000 + ((src[at + 1]! << 16) | (src[at + 2]! << 8) | src[at + 3]!);
  at += 4;
  return v;
}

/** A length under a header, refused when a narrower header would have held it. */
function length(t: number, h8: number, h16: number, min8: number): number {
  let n: number;
  if (t === h8) {
    n = u8();
    if (n < min8) throw NOT_CANONICAL;
  } else if (t === h16) {
    n = u16();
    if (n < (h8 === 0 ? min8 : 0x100)) throw NOT_CANONICAL;
  } else {
    n = u32();
    if (n < 0x10000) throw NOT_CANONICAL;
  }
  return n;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function readStr(n: number): string {
  need(n);
  const end = at + n;
  let ascii = true;
  for (let i = at; i < end; i++) {
    if (src[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  let s: string;
  if (ascii)
    s =
      n <= 64
        ? String.fromCharCode.apply(null, src.subarray(at, end) as unknown as number[])
        : Buffer.from(src.buffer, src.byteOffset + at, n).toString('latin1');
  else {
    try {
      s = utf8.decode(src.subarray(at, end));
    } catch {
      throw NOT_CANONICAL;
    }
  }
  at = end;
  return s;
}

function readValue(depth: number): Encodable {
  const t = u8();
  if (t < 0x80) return t;
  if (t >= 0xe0) return t - 0x100;
  if (t >= 0xa0 && t <= 0xbf) return readStr(t & 0x1f);
  if (t >= 0x90 && t <= 0x9f) return readArray(t & 0x0f, depth);
  switch (t) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xcc: {
      const v = u8();
      if (v < 0x80) throw NOT_CANONICAL;
      return v;
    }
    case 0xcd: {
      const v = u16();
      if (v < 0x100) throw NOT_CANONICAL;
      return v;
    }
    case 0xce: {
      const v = u32();
      if (v < 0x10000) throw NOT_CANONICAL;
      return v;
    }
    case 0xd0: {
      const v = (u8() << 24) >> 24;
      if (v >= -0x20) throw NOT_CANONICAL;
      return v;
    }
    case 0xd1: {
      const v = (u16() << 16) >> 16;
      if (v >= -0x80) throw NOT_CANONICAL;
      return v;
    }
    case 0xd2: {
      const v = u32() | 0;
      if (v >= -0x8000) throw NOT_CANONICAL;
      return v;
    }
    case 0xd3: {
      const v = read64().getBigInt64(0);
      if (v >= BIG_INT32_MIN && v <= BIG_UINT32_MAX) throw NOT_CANONICAL;
      return v;
    }
    case 0xcf: {
      const v = read64().getBigUint64(0);
      if (v <= INT64_MAX) throw NOT_CANONICAL;
      return v;
    }
    case 0xd9:
    case 0xda:
    case 0xdb:
      return readStr(length(t, 0xd9, 0xda, 0x20));
    case 0xc4:
    case 0xc5:
    case 0xc6: {
      const n = length(t, 0xc4, 0xc5, 0);
      need(n);
      // A copy, a plain Uint8Array even when the input is a Buffer (a view would keep the input alive, and compare differently).
      const out = new Uint8Array(n);
      out.set(src.subarray(at, at + n));
      at += n;
      return out;
    }
    case 0xdc:
    case 0xdd:
      return readArray(length(t, 0, 0xdc, 0x10), depth);
    default:
      // Maps, floats, extensions, 0xc1: never canonical; the exact path names the error.
      throw NOT_CANONICAL;
  }
}

function readArray(n: number, depth: number): Encodable[] {
  if (depth >= MAX_FAST_DEPTH) throw NOT_CANONICAL;
  // Each element takes at least one byte: a header claiming more cannot be satisfied.
  need(n);
  const out = new Array<Encodable>(n);
  for (let i = 0; i < n; i++) out[i] = readValue(depth + 1);
  return out;
}

/** The value of canonical bytes, or undefined for anything else (the exact path names the error). */
export function fastDecode(bytes: Uint8Array): Encodable | undefined {
  src = bytes;
  at = 0;
  try {
    const v = readValue(0);
    return at === bytes.length ? v : undefined;
  } catch (e) {
    if (e === NOT_CANONICAL) return undefined;
    throw e;
  } finally {
    // Not holding on to the caller's input.
    src = EMPTY;
  }
}

const EMPTY = new Uint8Array(0);
