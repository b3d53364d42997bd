/**
 * How the vector file writes a value of the canonical encoding in JSON, without a
 * msgpack library's opinion on integer widths or byte strings in between: every value is
 * an object with one key naming its type. Integers are decimal strings (they reach 2^64-1).
 *
 *   {"int": "42"}  {"bytes": "0x0102"}  {"str": "joule"}  {"bool": true}  {"nil": null}
 *   {"array": [value, ...]}
 *
 * Deliberately independent of core/codec.ts, so that the cross-check in
 * independent.test.ts reads values from this notation and nothing else.
 */
export type Notation =
  | { readonly int: string }
  | { readonly bytes: string }
  | { readonly str: string }
  | { readonly bool: boolean }
  | { readonly nil: null }
  | { readonly array: readonly Notation[] };

/** What the notation stands for: the values core/codec.ts encodes (number or bigint both read as int). */
export type Plain = null | boolean | number | bigint | string | Uint8Array | readonly Plain[];

export function hex(b: Uint8Array): string {
  return `0x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`;
}

export function unhex(s: string): Uint8Array {
  if (!/^0x([0-9a-f]{2})*$/.test(s)) throw new Error(`not lowercase 0x hex: ${s.slice(0, 24)}`);
  return new Uint8Array(Buffer.from(s.slice(2), 'hex'));
}

export function toNotation(v: Plain): Notation {
  if (v === null) return { nil: null };
  if (typeof v === 'boolean') return { bool: v };
  if (typeof v === 'number' || typeof v === 'bigint') return { int: BigInt(v).toString() };
  if (typeof v === 'string') return { str: v };
  if (v instanceof Uint8Array) return { bytes: hex(v) };
  return { array: v.map(toNotation) };
}

/** Integers come back as bigint, whatever their size (core's encoder takes both). */
export function fromNotation(n: Notation): Plain {
  if ('nil' in n) return null;
  if ('bool' in n) return n.bool;
  if ('int' in n) return BigInt(n.int);
  if ('str' in n) return n.str;
  if ('bytes' in n) return unhex(n.bytes);
  return n.array.map(fromNotation);
}
