/**
 * Structure-aware inputs for the fuzz targets that read JSON text (RPC, config, genesis,
 * keystore): tree mutations of valid documents with hostile keys (`__proto__`, `toString`)
 * and numbers (1e400, -0, 1.5), duplicate keys, and text mutations for the parser (the byte
 * operations of mutate.ts that make sense for text).
 */
import fc from 'fast-check';
import { applyByteOp, byteOp } from './mutate.ts';

// ---------------------------------------------------------------- JSON text

/** JSON as written, so that mutations can express what JSON.stringify cannot: duplicate keys, `__proto__`, number spellings. */
export type Json = null | boolean | string | { readonly num: string } | readonly Json[] | { readonly entries: readonly (readonly [string, Json])[] };

function isEntries(v: Json): v is { readonly entries: readonly (readonly [string, Json])[] } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'entries' in v;
}

export function toJson(v: unknown): Json {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return { num: JSON.stringify(v) };
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(toJson);
  if (typeof v === 'object')
    return {
      entries: Object.entries(v as object)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, toJson(x)] as const),
    };
  return null;
}

export function jsonText(v: Json): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(jsonText).join(',')}]`;
  if (isEntries(v)) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${jsonText(x)}`).join(',')}}`;
  return (v as { num: string }).num;
}

const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'toJSON', 'then', 'length', ''];
const NUMBERS = [
  '0',
  '-0',
  '1',
  '-1',
  '1.5',
  '1e2',
  '1E400',
  '-1e400',
  '1e-400',
  '0.1',
  '9007199254740991',
  '9007199254740992',
  '18446744073709551615',
  '4294967296',
  '65535',
  '65536',
  '1000000000000',
  '253402300799999',
  '32768',
  '1048576',
  '2',
  '16',
  '1e21',
];
const JSON_STRINGS = [
  '',
  '0x',
  '0x0',
  '0x00',
  '0xzz',
  'latest',
  'joule1',
  '\u0000',
  '💥',
  'x'.repeat(300),
  '\ud800',
  'true',
  '1',
  '-1',
  '0x' + '00'.repeat(32),
  '0x' + 'ff'.repeat(48),
  '0x' + '11'.repeat(96),
];

const jsonLeaf: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.constantFrom(...NUMBERS).map((num) => ({ num })),
  fc.integer().map((n) => ({ num: String(n) })),
  fc.constantFrom(...JSON_STRINGS),
  fc.string({ maxLength: 30 }),
);

export const randomJson: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    jsonLeaf,
    fc.array(tie('value'), { maxLength: 6 }),
    fc
      .array(fc.tuple(fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 12 })), tie('value')), { maxLength: 6 })
      .map((entries) => ({ entries })),
  ),
})).value;

type JsonOp =
  | { readonly op: 'replace'; readonly node: number; readonly value: Json }
  | { readonly op: 'drop'; readonly node: number; readonly at: number }
  | { readonly op: 'addKey'; readonly node: number; readonly key: string; readonly value: Json }
  | { readonly op: 'rename'; readonly node: number; readonly at: number; readonly how: number }
  | { readonly op: 'dupKey'; readonly node: number; readonly at: number; readonly value: Json }
  | { readonly op: 'dup'; readonly node: number; readonly at: number; readonly times: number }
  | { readonly op: 'swap'; readonly node: number; readonly other: number }
  | { readonly op: 'hex'; readonly node: number; readonly how: number; readonly at: number }
  | { readonly op: 'wrap'; readonly node: number; readonly depth: number };

const jsonOp: fc.Arbitrary<JsonOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('replace' as const), node: fc.nat(), value: randomJson }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('drop' as const), node: fc.nat(), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('addKey' as const),
      node: fc.nat(),
      key: fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 10 })),
      value: randomJson,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('rename' as const), node: fc.nat(), at: fc.nat(), how: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dupKey' as const), node: fc.nat(), at: fc.nat(), value: randomJson }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('dup' as const), node: fc.nat(), at: fc.nat(), times: fc.constantFrom(1, 2, 5, 1100) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('swap' as const), node: fc.nat(), other: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('hex' as const), node: fc.nat(), how: fc.nat(5), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('wrap' as const), node: fc.nat(), depth: fc.constantFrom(1, 2, 40, 500) }) },
);

function jsonNodes(root: Json): { value: Json; set: (v: Json) => Json }[] {
  const out: { value: Json; set: (v: Json) => Json }[] = [];
  const walk = (v: Json, rebuild: (v: Json) => Json) => {
    out.push({ value: v, set: rebuild });
    if (Array.isArray(v)) (v as Json[]).forEach((c, i) => walk(c, (n) => rebuild((v as Json[]).map((x, j) => (j === i ? n : x)))));
    else if (isEntries(v)) v.entries.forEach(([k, c], i) => walk(c, (n) => rebuild({ entries: v.entries.map((e, j) => (j === i ? [k, n] : e)) })));
  };
  walk(root, (v) => v);
  return out;
}

function mutateHex(s: string, how: number, at: number): string {
  switch (how) {
    case 0: // one hex digit changed
      if (s.length <= 2) return `${s}0`;
      return `${s.slice(0, 2 + (at % (s.length - 2)))}${'0123456789abcdef'[at % 16]}${s.slice(3 + (at % (s.length - 2)))}`;
    case 1: // prefix removed (bare hex)
      return s.startsWith('0x') ? s.slice(2) : `0x${s}`;
    case 2: // a byte short
      return s.slice(0, Math.max(0, s.length - 2));
    case 3: // a byte long
      return `${s}00`;
    case 4: // odd length
      return `${s}0`;
    default: // upper case
      return s.toUpperCase();
  }
}

function applyJsonOp(root: Json, op: JsonOp): Json {
  const all = jsonNodes(root);
  const t = all[op.node % all.length]!;
  const v = t.value;
  switch (op.op) {
    case 'replace':
      return t.set(op.value);
    case 'drop':
      if (Array.isArray(v) && v.length > 0) return t.set((v as Json[]).filter((_, i) => i !== op.at % v.length));
      if (isEntries(v) && v.entries.length > 0) return t.set({ entries: v.entries.filter((_, i) => i !== op.at % v.entries.length) });
      return root;
    case 'addKey':
      return isEntries(v) ? t.set({ entries: [...v.entries, [op.key, op.value]] }) : root;
    case 'rename': {
      if (!isEntries(v) || v.entries.length === 0) return root;
      const i = op.at % v.entries.length;
      const [k, x] = v.entries[i]!;
      const renamed = [k.slice(0, -1), `${k}s`, k.toUpperCase(), HOSTILE_KEYS[op.at % HOSTILE_KEYS.length]!][op.how]!;
      return t.set({ entries: v.entries.map((e, j) => (j === i ? [renamed, x] : e)) });
    }
    case 'dupKey': {
      if (!isEntries(v) || v.entries.length === 0) return root;
      const [k] = v.entries[op.at % v.entries.length]!;
      return t.set({ entries: [...v.entries, [k, op.value]] });
    }
    case 'dup': {
      if (!Array.isArray(v) || v.length === 0) return root;
      const i = op.at % v.length;
      const a = v as Json[];
      // Many copies only of small elements: documents stay within what a file or request body holds.
      const times = op.times > 5 && jsonText(a[i]!).length * op.times > 256 * 1024 ? 5 : op.times;
      return t.set([...a.slice(0, i), ...Array.from({ length: times }, () => a[i]!), ...a.slice(i)]);
    }
    case 'swap':
      return t.set(all[op.other % all.length]!.value);
    case 'hex': {
      // Strings are where keys, addresses and amounts live: mutate one (the node picked, or the next string after it).
      const strings = all
        .slice(op.node % all.length)
        .concat(all)
        .filter((n) => typeof n.value === 'string');
      const s = strings[0];
      return s === undefined ? root : s.set(mutateHex(s.value as string, op.how, op.at));
    }
    case 'wrap': {
      let out: Json = v;
      for (let i = 0; i < op.depth; i++) out = [out];
      return t.set(out);
    }
  }
}

const textOp = byteOp.filter((o) => o.op !== 'length' && o.op !== 'widen' && o.op !== 'nest');

/**
 * The input mix of a JSON target, as UTF-8 bytes: valid documents, their tree mutations
 * (most inputs: they reach validation), text mutations (the parser and its errors), and
 * random JSON or text.
 */
export function jsonInputs(corpus: readonly unknown[]): fc.Arbitrary<Uint8Array> {
  const docs = corpus.map(toJson);
  const texts = docs.map((d) => Buffer.from(jsonText(d)));
  const tree = fc.tuple(fc.nat(docs.length - 1), fc.array(jsonOp, { minLength: 1, maxLength: 3 })).map(([i, ops]) => {
    let doc: Json = docs[i] as Json;
    for (const op of ops) doc = applyJsonOp(doc, op);
    return new Uint8Array(Buffer.from(jsonText(doc)));
  });
  const text = fc.tuple(fc.constantFrom(...texts), fc.array(textOp, { minLength: 1, maxLength: 3 })).map(([b, ops]) => {
    let out: Uint8Array = b;
    for (const op of ops) out = applyByteOp(out, op, texts, 1 << 20);
    return out;
  });
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...texts).map((b) => new Uint8Array(b)) },
    { weight: 24, arbitrary: tree },
    { weight: 4, arbitrary: text },
    { weight: 2, arbitrary: randomJson.map((j) => new Uint8Array(Buffer.from(jsonText(j)))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
  );
}

/** UTF-8 text of an input (invalid sequences become U+FFFD, as readFileSync(f, 'utf8') does). */
export function text(input: Uint8Array): string {
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
}
