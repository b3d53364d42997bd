/**
 * Finding one element inside a canonical encoding without decoding the others. A stored
 * block holds thousands of txs and its receipts as many records: answering for one tx must
 * cost that tx, not the block. The walker reads only type bytes and lengths; the element
 * it returns is decoded (and checked canonical) by the caller like any encoding.
 */
import { ErrorCode, JouleError } from './errors.ts';

function malformed(what: string, message: string): JouleError {
  return new JouleError(ErrorCode.CODEC_MALFORMED, message, what);
}

/** Bytes of a value's header by its type byte (for str/bin: of the length that follows), or -1 for types the codec never writes. */
function sizeOfLength(t: number): number {
  switch (t) {
    case 0xc4: // bin 8/16/32
    case 0xd9: // str 8/16/32
      return 1;
    case 0xc5:
    case 0xda:
      return 2;
    case 0xc6:
    case 0xdb:
      return 4;
    default:
      return -1;
  }
}

/** Total bytes of a fixed-size value by its type byte (nil, booleans, ints), or -1. */
function fixedSize(t: number): number {
  if (t <= 0x7f || t >= 0xe0) return 1; // positive and negative fixint
  switch (t) {
    case 0xc0: // nil
    case 0xc2: // false
    case 0xc3: // true
      return 1;
    case 0xcc: // uint 8/16/32/64
    case 0xd0: // int 8/16/32/64
      return 2;
    case 0xcd:
    case 0xd1:
      return 3;
    case 0xce:
    case 0xd2:
      return 5;
    case 0xcf:
    case 0xd3:
      return 9;
    default:
      return -1;
  }
}

/**
 * A walk over one encoding: reads the header at `at` (the types codec.ts writes, nothing
 * else: no maps, floats or extensions), leaving in `next` the offset just past the header
 * (arrays) or past the whole value (everything else), in `items` the elements that follow
 * (arrays only). Allocation-free per value: a block's receipts are thousands of values.
 */
class Walker {
  readonly b: Uint8Array;
  readonly view: DataView;
  what: string;
  next = 0;
  items = 0;

  constructor(b: Uint8Array, what: string) {
    this.b = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.what = what;
  }

  isArray(at: number): boolean {
    const t = this.b[at];
    return t !== undefined && ((t >= 0x90 && t <= 0x9f) || t === 0xdc || t === 0xdd);
  }

  head(at: number): void {
    const { b } = this;
    if (at >= b.length) throw malformed(this.what, 'truncated encoding');
    const t = b[at]!;
    this.items = 0;
    const fixed = fixedSize(t);
    if (fixed > 0) return this.#end(at + fixed);
    if (t >= 0x90 && t <= 0x9f) {
      this.items = t & 0x0f; // fixarray
      return this.#end(at + 1);
    }
    if (t >= 0xa0 && t <= 0xbf) return this.#end(at + 1 + (t & 0x1f)); // fixstr
    if (t === 0xdc || t === 0xdd) {
      const n = t === 0xdc ? 2 : 4;
      this.#end(at + 1 + n);
      this.items = n === 2 ? this.view.getUint16(at + 1) : this.view.getUint32(at + 1);
      return;
    }
    const n = sizeOfLength(t);
    if (n < 0) throw malformed(this.what, `type byte 0x${t.toString(16)} is not part of the canonical encoding`);
    this.#end(at + 1 + n);
    const len = n === 1 ? b[at + 1]! : n === 2 ? this.view.getUint16(at + 1) : this.view.getUint32(at + 1);
    this.#end(at + 1 + n + len);
  }

  #end(next: number): void {
    if (next > this.b.length) throw malformed(this.what, 'truncated encoding');
    this.next = next;
  }

  /** Offset just past the whole value at `at` (nested arrays included), without recursion. */
  skip(at: number): number {
    let pending = 1;
    while (pending > 0) {
      this.head(at);
      at = this.next;
      pending += this.items - 1;
    }
    return at;
  }
}

/**
 * The encoded bytes of the element at `path` (indexes into nested arrays, outermost
 * first), as a view of `bytes`; undefined when an index is past its array's end. Costs
 * the headers before the element, not the decoding of its siblings.
 */
export function encodedElement(bytes: Uint8Array, path: readonly number[], what = '$'): Uint8Array | undefined {
  const w = new Walker(bytes, what);
  let at = 0;
  for (const index of path) {
    w.head(at);
    if (!w.isArray(at)) throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, 'expected array', w.what);
    if (!Number.isSafeInteger(index) || index < 0 || index >= w.items) return undefined;
    at = w.next;
    for (let i = 0; i < index; i++) at = w.skip(at);
    w.what = `${w.what}[${index}]`;
  }
  return bytes.subarray(at, w.skip(at));
}
