/**
 * Finding one element inside a canonical encoding without decoding the others. A stored
 * block holds thousands of txs and its receipts as many records: answering for one tx must
 * cost that tx, not the block. The walker reads only type bytes and lengths; the element
 * it returns is decoded (and checked canonical) by the caller like any encoding.
 */
import { ErrorCode, JouleError } from './errors.ts';

interface Head {
  /** Offset just past the header (arrays) or past the whole value (everything else). */
  readonly next: number;
  /** Elements that follow the header (arrays only). */
  readonly items: number;
}

function malformed(what: string, message: string): JouleError {
  return new JouleError(ErrorCode.CODEC_MALFORMED, message, what);
}

/** The header of the value at `at`: the types codec.ts writes, nothing else (no maps, floats or extensions). */
function head(b: Uint8Array, at: number, what: string): Head {
  if (at >= b.length) throw malformed(what, 'truncated encoding');
  const t = b[at]!;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const need = (n: number): void => {
    if (at + n > b.length) throw malformed(what, 'truncated encoding');
  };
  const sized = (lengthBytes: number): Head => {
    need(1 + lengthBytes);
    const len = lengthBytes === 1 ? b[at + 1]! : lengthBytes === 2 ? view.getUint16(at + 1) : view.getUint32(at + 1);
    const next = at + 1 + lengthBytes + len;
    if (next > b.length) throw malformed(what, 'truncated encoding');
    return { next, items: 0 };
  };
  const fixed = (n: number): Head => {
    need(n);
    return { next: at + n, items: 0 };
  };
  if (t <= 0x7f || t >= 0xe0) return fixed(1); // positive and negative fixint
  if (t >= 0x90 && t <= 0x9f) return { next: at + 1, items: t & 0x0f }; // fixarray
  if (t >= 0xa0 && t <= 0xbf) {
    const next = at + 1 + (t & 0x1f); // fixstr
    if (next > b.length) throw malformed(what, 'truncated encoding');
    return { next, items: 0 };
  }
  switch (t) {
    case 0xc0: // nil
    case 0xc2: // false
    case 0xc3: // true
      return fixed(1);
    case 0xc4: // bin 8/16/32
    case 0xd9: // str 8/16/32
      return sized(1);
    case 0xc5:
    case 0xda:
      return sized(2);
    case 0xc6:
    case 0xdb:
      return sized(4);
    case 0xcc: // uint 8/16/32/64
    case 0xd0: // int 8/16/32/64
      return fixed(2);
    case 0xcd:
    case 0xd1:
      return fixed(3);
    case 0xce:
    case 0xd2:
      return fixed(5);
    case 0xcf:
    case 0xd3:
      return fixed(9);
    case 0xdc:
      need(3);
      return { next: at + 3, items: view.getUint16(at + 1) };
    case 0xdd:
      need(5);
      return { next: at + 5, items: view.getUint32(at + 1) };
    default:
      throw malformed(what, `type byte 0x${t.toString(16)} is not part of the canonical encoding`);
  }
}

/** Offset just past the whole value at `at` (nested arrays included), without recursion. */
function skip(b: Uint8Array, at: number, what: string): number {
  let pending = 1;
  while (pending > 0) {
    const h = head(b, at, what);
    at = h.next;
    pending += h.items - 1;
  }
  return at;
}

/**
 * The encoded bytes of the element at `path` (indexes into nested arrays, outermost
 * first), as a view of `bytes`; undefined when an index is past its array's end. Costs
 * the headers before the element, not the decoding of its siblings.
 */
export function encodedElement(bytes: Uint8Array, path: readonly number[], what = '$'): Uint8Array | undefined {
  let at = 0;
  for (const index of path) {
    const h = head(bytes, at, what);
    if (bytes[at]! < 0x90 || (bytes[at]! > 0x9f && bytes[at] !== 0xdc && bytes[at] !== 0xdd)) {
      throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, 'expected array', what);
    }
    if (!Number.isSafeInteger(index) || index < 0 || index >= h.items) return undefined;
    at = h.next;
    for (let i = 0; i < index; i++) at = skip(bytes, at, what);
    what = `${what}[${index}]`;
  }
  return bytes.subarray(at, skip(bytes, at, what));
}
