/**
 * Structure-aware input generators (fast-check arbitraries) for the fuzz targets:
 *
 * - byte mutations of valid encodings: bit flips, interesting bytes, truncation, erasure,
 *   insertion, repetition, splicing of two encodings, length-field edits and widened
 *   (non-canonical) headers found by walking the msgpack structure, deep nesting;
 * - tree mutations of decoded valid encodings: one node replaced by a boundary integer,
 *   bytes of a telling length, another type, an off-by-one, or a byte-mutated copy of
 *   itself (so that encodings inside encodings, a tx in a batch or a block in a proposal,
 *   are mutated too), then re-encoded canonically, which reaches the checks after decoding;
 * - random canonical values and raw bytes.
 *
 * The same for JSON text is mutate-json.ts.
 */
import fc from 'fast-check';
import { decode, encode, type Encodable } from '../../core/codec.ts';

// ---------------------------------------------------------------- bytes

/** Bytes msgpack gives meaning to, and the usual suspects. */
const INTERESTING_BYTES = [
  0x00, 0x01, 0x7f, 0x80, 0xff, 0x90, 0x91, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
  0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0,
];
/** Values written into length fields: empty, one, around the real length, type boundaries, absurd. */
const LENGTHS = [0, 1, 2, 15, 16, 31, 32, 0x7f, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0xffffffff];

type ByteOp =
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'set'; readonly at: number; readonly value: number }
  | { readonly op: 'truncate'; readonly at: number }
  | { readonly op: 'erase'; readonly at: number; readonly len: number }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'repeat'; readonly at: number; readonly len: number; readonly times: number }
  | { readonly op: 'splice'; readonly at: number; readonly other: number; readonly from: number }
  | { readonly op: 'length'; readonly nth: number; readonly value: number; readonly delta: number }
  | { readonly op: 'widen'; readonly nth: number }
  | { readonly op: 'nest'; readonly depth: number };

export const byteOp: fc.Arbitrary<ByteOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.nat(255)) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('erase' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('repeat' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }), times: fc.integer({ min: 1, max: 64 }) }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('splice' as const), at: fc.nat(), other: fc.nat(), from: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('length' as const), nth: fc.nat(), value: fc.constantFrom(-1, ...LENGTHS), delta: fc.constantFrom(-2, -1, 1, 2) }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('widen' as const), nth: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('nest' as const), depth: fc.constantFrom(1, 2, 16, 100, 1000, 3000, 10_000, 100_000) }) },
);

/** A msgpack header found in a buffer: where it starts, its kind, and its length field if any. */
interface Header {
  readonly at: number;
  /** Offset and width (bytes) of the length field; width 0 for a length in the tag's low bits. */
  readonly lengthAt: number;
  readonly lengthWidth: 0 | 1 | 2 | 4;
  /** Bits of the tag holding the length (fixarray 4, fixstr 5, fixmap 4). */
  readonly tagBits: number;
  readonly length: number;
  /** Integer headers, for 'widen'. */
  readonly intValue?: number | undefined;
}

/**
 * Walks msgpack items in order (the format is prefix-order: a container's elements follow
 * its header), listing each header; stops at the first thing it cannot read. Lenient by
 * design: it runs on mutated bytes too.
 */
export function msgpackHeaders(b: Uint8Array): Header[] {
  const out: Header[] = [];
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let i = 0;
  const need = (n: number) => i + n <= b.length;
  while (i < b.length && out.length < 4096) {
    const t = b[i]!;
    if (t <= 0x7f) {
      out.push({ at: i, lengthAt: i, lengthWidth: 0, tagBits: 0, length: 0, intValue: t });
      i += 1;
    } else if (t >= 0xe0) {
      out.push({ at: i, lengthAt: i, lengthWidth: 0, tagBits: 0, length: 0, intValue: t - 0x100 });
      i += 1;
    } else if (t <= 0x8f || (t >= 0x90 && t <= 0x9f)) {
      out.push({ at: i, lengthAt: i, lengthWidth: 0, tagBits: 4, length: t & 0x0f });
      i += 1;
    } else if (t >= 0xa0 && t <= 0xbf) {
      out.push({ at: i, lengthAt: i, lengthWidth: 0, tagBits: 5, length: t & 0x1f });
      i += 1 + (t & 0x1f);
    } else if (t === 0xc4 || t === 0xd9) {
      if (!need(2)) break;
      out.push({ at: i, lengthAt: i + 1, lengthWidth: 1, tagBits: 0, length: b[i + 1]! });
      i += 2 + b[i + 1]!;
    } else if (t === 0xc5 || t === 0xda) {
      if (!need(3)) break;
      const n = view.getUint16(i + 1);
      out.push({ at: i, lengthAt: i + 1, lengthWidth: 2, tagBits: 0, length: n });
      i += 3 + n;
    } else if (t === 0xc6 || t === 0xdb) {
      if (!need(5)) break;
      const n = view.getUint32(i + 1);
      out.push({ at: i, lengthAt: i + 1, lengthWidth: 4, tagBits: 0, length: n });
      i += 5 + n;
    } else if (t === 0xdc || t === 0xde) {
      if (!need(3)) break;
      out.push({ at: i, lengthAt: i + 1, lengthWidth: 2, tagBits: 0, length: view.getUint16(i + 1) });
      i += 3;
    } else if (t === 0xdd || t === 0xdf) {
      if (!need(5)) break;
      out.push({ at: i, lengthAt: i + 1, lengthWidth: 4, tagBits: 0, length: view.getUint32(i + 1) });
      i += 5;
    } else if (t === 0xcc || t === 0xd0) {
      if (!need(2)) break;
      out.push({ at: i, lengthAt: i, lengthWidth: 0, tagBits: 0, length: 0, intValue: t === 0xcc ? b[i + 1]! : view.getInt8(i + 1) });
      i += 2;
    } else if (t === 0xcd || t === 0xd1) {
      if (!need(3)) break;
      out.push({ at: i, lengthAt: i, lengthWidth: 0, tagBits: 0, length: 0, intValue: t === 0xcd ? view.getUint16(i + 1) : view.getInt16(i + 1) });
      i += 3;
    } else if (t === 0xce || t === 0xd2 || t === 0xca) {
      i += 5;
    } else if (t === 0xcf || t === 0xd3 || t === 0xcb) {
      i += 9;
    } else if (t === 0xc0 || t === 0xc2 || t === 0xc3) {
      i += 1;
    } else {
      break; // ext types, 0xc1: the walk cannot go on reliably
    }
  }
  return out;
}

function writeLength(b: Uint8Array, h: Header, value: number): Uint8Array {
  const out = b.slice();
  const view = new DataView(out.buffer);
  if (h.lengthWidth === 0) {
    const mask = (1 << h.tagBits) - 1;
    out[h.at] = (out[h.at]! & ~mask) | (value & mask);
  } else if (h.lengthWidth === 1) out[h.lengthAt] = value & 0xff;
  else if (h.lengthWidth === 2) view.setUint16(h.lengthAt, value & 0xffff);
  else view.setUint32(h.lengthAt, value >>> 0);
  return out;
}

/** Re-encodes one header in a wider form than needed: the same value, a non-canonical encoding. */
function widen(b: Uint8Array, h: Header): Uint8Array {
  let wide: Uint8Array;
  let oldSize: number;
  if (h.intValue !== undefined) {
    const v = h.intValue;
    oldSize = b[h.at]! <= 0x7f || b[h.at]! >= 0xe0 ? 1 : b[h.at] === 0xcc || b[h.at] === 0xd0 ? 2 : 3;
    wide = new Uint8Array(9);
    const view = new DataView(wide.buffer);
    if (v >= 0) {
      wide[0] = 0xcf;
      view.setBigUint64(1, BigInt(v));
    } else {
      wide[0] = 0xd3;
      view.setBigInt64(1, BigInt(v));
    }
  } else if (h.tagBits > 0 || h.lengthWidth < 4) {
    const tag = b[h.at]!;
    const kind =
      tag >= 0x90 && tag <= 0x9f
        ? 0xdd
        : tag >= 0xa0 && tag <= 0xbf
          ? 0xdb
          : tag <= 0x8f
            ? 0xdf
            : tag === 0xc4 || tag === 0xc5
              ? 0xc6
              : tag === 0xd9 || tag === 0xda
                ? 0xdb
                : 0xdd;
    oldSize = 1 + h.lengthWidth;
    wide = new Uint8Array(5);
    wide[0] = kind;
    new DataView(wide.buffer).setUint32(1, h.length);
  } else {
    return b;
  }
  const out = new Uint8Array(b.length - oldSize + wide.length);
  out.set(b.subarray(0, h.at), 0);
  out.set(wide, h.at);
  out.set(b.subarray(h.at + oldSize), h.at + wide.length);
  return out;
}

export function applyByteOp(b: Uint8Array, op: ByteOp, corpus: readonly Uint8Array[], maxLength: number): Uint8Array {
  const at = (n: number) => (b.length === 0 ? 0 : n % (b.length + 1));
  switch (op.op) {
    case 'flip': {
      if (b.length === 0) return b;
      const out = b.slice();
      out[op.at % b.length]! ^= 1 << op.bit;
      return out;
    }
    case 'set': {
      if (b.length === 0) return new Uint8Array([op.value]);
      const out = b.slice();
      out[op.at % b.length] = op.value;
      return out;
    }
    case 'truncate':
      return b.subarray(0, at(op.at));
    case 'erase': {
      const i = at(op.at);
      return concat(b.subarray(0, i), b.subarray(Math.min(b.length, i + op.len)));
    }
    case 'insert': {
      const i = at(op.at);
      return concat(b.subarray(0, i), op.bytes, b.subarray(i));
    }
    case 'repeat': {
      const i = at(op.at);
      const piece = b.subarray(i, Math.min(b.length, i + op.len));
      const copies = Math.min(op.times, Math.floor(maxLength / Math.max(1, piece.length)));
      return concat(b.subarray(0, i), ...Array.from({ length: copies }, () => piece), b.subarray(i));
    }
    case 'splice': {
      const other = corpus[op.other % corpus.length]!;
      return concat(b.subarray(0, at(op.at)), other.subarray(other.length === 0 ? 0 : op.from % (other.length + 1)));
    }
    case 'length': {
      const headers = msgpackHeaders(b).filter((h) => h.intValue === undefined);
      const h = headers[op.nth % Math.max(1, headers.length)];
      if (h === undefined) return b;
      return writeLength(b, h, op.value === -1 ? h.length + op.delta : op.value);
    }
    case 'widen': {
      const headers = msgpackHeaders(b);
      const h = headers[op.nth % Math.max(1, headers.length)];
      return h === undefined ? b : widen(b, h);
    }
    case 'nest': {
      const depth = Math.min(op.depth, Math.max(0, maxLength - b.length));
      const out = new Uint8Array(depth + b.length);
      out.fill(0x91, 0, depth);
      out.set(b, depth);
      return out;
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** One to four byte mutations of an input drawn from `base` (other corpus entries feed splices). */
export function byteMutations(base: fc.Arbitrary<Uint8Array>, corpus: readonly Uint8Array[], maxLength = 1 << 20): fc.Arbitrary<Uint8Array> {
  return fc.tuple(base, fc.array(byteOp, { minLength: 1, maxLength: 4 })).map(([b, ops]) => {
    let out = b;
    for (const op of ops) out = applyByteOp(out, op, corpus, maxLength);
    return out.length > maxLength ? out.subarray(0, maxLength) : out;
  });
}

// ---------------------------------------------------------------- canonical values

const BOUNDARY_INTS: readonly (number | bigint)[] = [
  0,
  1,
  2,
  -1,
  0x7f,
  0x80,
  0xff,
  0x100,
  0xffff,
  0x10000,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  -(2 ** 31) - 1,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  -(2 ** 53 - 1),
  2n ** 53n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 1n,
  -(2n ** 63n),
];
const BYTE_LENGTHS = [0, 1, 19, 20, 21, 31, 32, 33, 47, 48, 49, 63, 64, 65, 95, 96, 97, 256];
const STRINGS = ['', 'a', 'joule-fuzz', 'joule-test', 'joule-devnet', 'x'.repeat(64), 'x'.repeat(65), 'é', '\u0000', '💥', 'x'.repeat(300)];

/** Any value the canonical codec encodes (no lone surrogates: the codec refuses to encode them). */
export const encodable: fc.Arbitrary<Encodable> = fc.letrec<{ value: Encodable }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.constantFrom(...BOUNDARY_INTS),
    fc.integer(),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
    fc.string({ maxLength: 40, unit: 'grapheme' }),
    fc.constantFrom(...STRINGS),
    fc.uint8Array({ maxLength: 100 }),
    fc.array(tie('value'), { maxLength: 12 }),
  ),
})).value;

/** Random canonical encodings and raw bytes: the unstructured end of every target's inputs. */
export function unstructured(maxLength = 512): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    encodable.map((v) => encode(v)),
    fc.uint8Array({ maxLength }),
  );
}

type TreeOp =
  | { readonly op: 'replace'; readonly node: number; readonly value: Encodable }
  | { readonly op: 'int'; readonly node: number; readonly value: number | bigint }
  | { readonly op: 'bump'; readonly node: number; readonly delta: number }
  | { readonly op: 'bytes'; readonly node: number; readonly length: number; readonly fill: Uint8Array }
  | { readonly op: 'string'; readonly node: number; readonly value: string }
  | { readonly op: 'drop'; readonly node: number; readonly at: number }
  | { readonly op: 'dup'; readonly node: number; readonly at: number; readonly times: number }
  | { readonly op: 'swap'; readonly node: number; readonly other: number }
  | { readonly op: 'inner'; readonly node: number; readonly ops: readonly ByteOp[] };

const treeOp: fc.Arbitrary<TreeOp> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('replace' as const), node: fc.nat(), value: encodable }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('int' as const), node: fc.nat(), value: fc.constantFrom(...BOUNDARY_INTS) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('bump' as const), node: fc.nat(), delta: fc.constantFrom(-2, -1, 1, 2, 1000) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('bytes' as const),
      node: fc.nat(),
      length: fc.constantFrom(-1, 1, ...BYTE_LENGTHS),
      fill: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('string' as const), node: fc.nat(), value: fc.constantFrom(...STRINGS) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('drop' as const), node: fc.nat(), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('dup' as const), node: fc.nat(), at: fc.nat(), times: fc.constantFrom(1, 2, 5, 100, 1100) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('swap' as const), node: fc.nat(), other: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('inner' as const), node: fc.nat(), ops: fc.array(byteOp, { minLength: 1, maxLength: 3 }) }) },
);

/** Nodes of a tree in pre-order, each with the way to put a replacement in its place. */
function nodes(root: Encodable): { value: Encodable; set: (v: Encodable) => Encodable }[] {
  const out: { value: Encodable; set: (v: Encodable) => Encodable }[] = [];
  const walk = (v: Encodable, rebuild: (v: Encodable) => Encodable) => {
    out.push({ value: v, set: rebuild });
    if (Array.isArray(v)) {
      v.forEach((child, i) => walk(child, (c) => rebuild(v.map((x, j) => (j === i ? c : x)))));
    }
  };
  walk(root, (v) => v);
  return out;
}

function applyTreeOp(root: Encodable, op: TreeOp, corpus: readonly Uint8Array[]): Encodable {
  const all = nodes(root);
  const target = all[op.node % all.length]!;
  const v = target.value;
  switch (op.op) {
    case 'replace':
      return target.set(op.value);
    case 'int':
      return target.set(op.value);
    case 'bump': {
      if (typeof v === 'number') return target.set(v + op.delta);
      if (typeof v === 'bigint') return target.set(v + BigInt(op.delta));
      if (v instanceof Uint8Array || typeof v === 'string') return target.set(v.length + op.delta);
      return root;
    }
    case 'bytes': {
      const length = op.length === -1 ? (v instanceof Uint8Array ? v.length + 1 : 1) : op.length;
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = v instanceof Uint8Array && i < v.length && op.fill.length === 1 ? v[i]! : op.fill[i % op.fill.length]!;
      return target.set(out);
    }
    case 'string':
      return target.set(op.value);
    case 'drop':
      if (!Array.isArray(v) || v.length === 0) return root;
      return target.set(v.filter((_, i) => i !== op.at % v.length));
    case 'dup': {
      if (!Array.isArray(v) || v.length === 0) return root;
      const i = op.at % v.length;
      // Many copies only of small elements: inputs stay within what a peer may send.
      const times = op.times > 5 && encode(v[i]!).length * op.times > 256 * 1024 ? 5 : op.times;
      return target.set([...v.slice(0, i), ...Array.from({ length: times }, () => v[i]!), ...v.slice(i)]);
    }
    case 'swap': {
      const other = all[op.other % all.length]!.value;
      return target.set(other);
    }
    case 'inner': {
      if (!(v instanceof Uint8Array)) return root;
      let b = v;
      for (const o of op.ops) b = applyByteOp(b, o, corpus, 1 << 20);
      return target.set(b);
    }
  }
}

/**
 * One to three tree mutations of a decoded corpus entry, re-encoded canonically (the checks
 * after decoding see well-formed input with wrong fields). An encoding the codec refuses
 * (an integer beyond 64 bits after a bump) falls back to the byte form of the value before.
 */
export function treeMutations(corpus: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const trees = corpus.map((b) => decode(b));
  return fc.tuple(fc.nat(trees.length - 1), fc.array(treeOp, { minLength: 1, maxLength: 3 })).map(([i, ops]) => {
    let tree: Encodable = trees[i] as Encodable;
    let bytes = corpus[i]!;
    for (const op of ops) {
      const next = applyTreeOp(tree, op, corpus);
      try {
        bytes = encode(next);
        tree = next;
      } catch {
        // out of the codec's range: keep the previous value
      }
    }
    return bytes;
  });
}

export interface InputMix {
  readonly maxLength?: number;
  /** Relative weights of: the valid corpus, tree mutations, byte mutations, tree then byte mutations, unstructured input. */
  readonly weights?: readonly [valid: number, tree: number, bytes: number, treeThenBytes: number, unstructured: number];
}

/**
 * The usual input mix of a binary target: the valid corpus itself, its tree mutations, its
 * byte mutations (also applied after a tree mutation), and unstructured inputs.
 */
export function binaryInputs(corpus: readonly Uint8Array[], opts: InputMix = {}): fc.Arbitrary<Uint8Array> {
  if (corpus.length === 0) throw new Error('a corpus needs at least one valid input');
  const maxLength = opts.maxLength ?? 1 << 20;
  const [valid, tree, bytes, treeThenBytes, raw] = opts.weights ?? [1, 5, 5, 2, 1];
  const validArb = fc.constantFrom(...corpus);
  const treeArb = treeMutations(corpus);
  return fc.oneof(
    { weight: valid, arbitrary: validArb },
    { weight: tree, arbitrary: treeArb },
    { weight: bytes, arbitrary: byteMutations(validArb, corpus, maxLength) },
    { weight: treeThenBytes, arbitrary: byteMutations(treeArb, corpus, maxLength) },
    { weight: raw, arbitrary: unstructured() },
  );
}
