/** Byte helpers shared by every part. Uint8Array everywhere; Buffer only at I/O edges. */

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

const HEX_0X = /^0x([0-9a-fA-F]{2})*$/;

/**
 * Parses `0x`-prefixed hex of whole bytes, the one form every input (config, JSON-RPC, CLI
 * options, key files) takes; undefined for anything else, bare hex included, so that a
 * value typed without its prefix is refused rather than guessed at.
 */
export function fromHexOrUndefined(s: string): Uint8Array | undefined {
  if (typeof s !== 'string' || !HEX_0X.test(s)) return undefined;
  return new Uint8Array(Buffer.from(s.slice(2), 'hex'));
}

/** For constants and tests: hex with or without 0x; throws on anything else. */
export function fromHex(s: string): Uint8Array {
  const b = fromHexOrUndefined(s.startsWith('0x') ? s : `0x${s}`);
  if (b === undefined) throw new TypeError(`not hex: ${s.slice(0, 20)}`);
  return b;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return headedBytes([], parts);
}

/**
 * The bytes `head` (each 0-255), then `parts`, in one allocation: a state key's prefix and
 * bucket bytes ahead of its id (core/state-keys.ts builds hundreds of thousands in a
 * market's clearing), without an array made for the head.
 */
export function headedBytes(head: readonly number[], parts: readonly Uint8Array[]): Uint8Array {
  let len = head.length;
  for (let i = 0; i < parts.length; i++) len += parts[i]!.length;
  const out = new Uint8Array(len);
  for (let i = 0; i < head.length; i++) out[i] = head[i]!;
  let off = head.length;
  for (let i = 0; i < parts.length; i++) {
    out.set(parts[i]!, off);
    off += parts[i]!.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.compare(a, b) === 0;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** One encoder for every call: it holds no state between calls, and a new one per key was a measurable share of building state keys. */
const textEncoder = new TextEncoder();

/** Strings up to this length are tried as ASCII first: ids, zones and names in state keys. */
const ASCII_FAST_PATH = 64;

/**
 * The UTF-8 bytes of `s`. A short ASCII string (every state key's ids) is copied byte by
 * byte, which takes about a tenth of TextEncoder.encode's call here; anything else, or a
 * string found not to be ASCII, goes through the encoder.
 */
export function utf8(s: string): Uint8Array {
  const n = s.length;
  if (n <= ASCII_FAST_PATH) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) return textEncoder.encode(s);
      out[i] = c;
    }
    return out;
  }
  return textEncoder.encode(s);
}

/** One decoder for every call (default options: malformed bytes become U+FFFD; decode() without `stream` keeps nothing between calls). */
const textDecoder = new TextDecoder();

/**
 * The string of UTF-8 bytes (what `new TextDecoder().decode` gives, without a decoder per
 * call). Short ASCII (the ids and zones inside state keys) is read char by char, which
 * costs a fraction of the decoder's call; ASCII decodes to the same string either way.
 */
export function utf8Text(b: Uint8Array): string {
  const n = b.length;
  if (n <= ASCII_FAST_PATH) {
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (b[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return String.fromCharCode.apply(null, b as unknown as number[]);
  }
  return textDecoder.decode(b);
}

const TWO_32 = 4_294_967_296;

/** Big-endian fixed-width encoding of a non-negative integer (heights in DB keys sort in order). */
export function u64be(n: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) {
    // The common case (heights, times in ms) without a BigInt and a DataView per call.
    writeU32be(out, 0, Math.floor(n / TWO_32));
    writeU32be(out, 4, n >>> 0);
    return out;
  }
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

/** Writes `n` (0 <= n < 2^32) big-endian at `offset`. */
export function writeU32be(out: Uint8Array, offset: number, n: number): void {
  out[offset] = n >>> 24;
  out[offset + 1] = (n >>> 16) & 0xff;
  out[offset + 2] = (n >>> 8) & 0xff;
  out[offset + 3] = n & 0xff;
}

/** Big-endian 4-byte encoding of 0 <= n < 2^32. */
export function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  writeU32be(out, 0, n);
  return out;
}

/** The u64be at `offset` as a number (exact below 2^53; rounded to the nearest double above, as Number(bigint) rounds). */
export function readU64be(b: Uint8Array, offset = 0): number {
  if (offset < 0 || offset + 8 > b.length) throw new RangeError(`no u64 at offset ${offset} of ${b.length} bytes`);
  const hi = ((b[offset]! << 24) | (b[offset + 1]! << 16) | (b[offset + 2]! << 8) | b[offset + 3]!) >>> 0;
  const lo = ((b[offset + 4]! << 24) | (b[offset + 5]! << 16) | (b[offset + 6]! << 8) | b[offset + 7]!) >>> 0;
  return hi * TWO_32 + lo;
}
