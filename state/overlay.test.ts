import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { compareBytes, toHex } from '../core/bytes.ts';
import { Database } from './db.ts';
import { byteId, firstEntries, headEntries, type StateEntry, StateOverlay, type StateReader } from './overlay.ts';
import { commitBlock, MapState, removeTempDirs, tempDir } from './testing/store.ts';
import { WorldState } from './world-state.ts';

afterEach(removeTempDirs);

// Keys over a tiny alphabet that includes 0x00, 0x7f, 0x80 and 0xff: many shared prefixes,
// and byte order that differs from signed or UTF-16 order if anything got it wrong.
const byte = fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xff);
const keyArb = fc.array(byte, { minLength: 1, maxLength: 4 }).map((b) => Uint8Array.from(b));
const valueArb = fc.uint8Array({ minLength: 1, maxLength: 4 });
type Op = { key: Uint8Array; value: Uint8Array | undefined; layer: 0 | 1 };
const opArb: fc.Arbitrary<Op> = fc.record({
  key: keyArb,
  value: fc.option(valueArb, { nil: undefined, freq: 3 }),
  layer: fc.constantFrom(0 as const, 1 as const),
});

/** The reference: a Map of hex key -> entry, listed by sorting. */
function modelList(model: Map<string, [Uint8Array, Uint8Array]>, prefix: Uint8Array, from: Uint8Array | undefined): string[] {
  return [...model.values()]
    .filter(([k]) => Buffer.from(k).subarray(0, prefix.length).equals(prefix) && (from === undefined || compareBytes(k, from) >= 0))
    .sort(([a], [b]) => compareBytes(a, b))
    .map(([k, v]) => `${toHex(k)}=${toHex(v)}`);
}

function list(state: StateReader, prefix: Uint8Array, from: Uint8Array | undefined): string[] {
  return [...state.iterate(prefix, from)].map(([k, v]) => `${toHex(k)}=${toHex(v)}`);
}

/**
 * Applies `ops` to a block overlay (layer 0) and a tx overlay above it (layer 1). The model
 * is what the tx overlay must show: the base, then the block's ops, then the tx's on top.
 */
function applyOps(base: StateReader, ops: readonly Op[], model: Map<string, [Uint8Array, Uint8Array]>): { block: StateOverlay; tx: StateOverlay } {
  const block = new StateOverlay(base);
  const tx = new StateOverlay(block);
  for (const layer of [0, 1] as const) {
    for (const op of ops.filter((o) => o.layer === layer)) {
      if (op.value === undefined) model.delete(toHex(op.key));
      else model.set(toHex(op.key), [op.key, op.value]);
    }
  }
  // interleaved, as execution interleaves them: the layering, not the order, decides
  for (const op of ops) {
    const target = op.layer === 0 ? block : tx;
    if (op.value === undefined) target.delete(op.key);
    else target.set(op.key, op.value);
  }
  return { block, tx };
}

describe('prefix iteration', () => {
  it('nested overlays over a base list exactly the sorted model: writes win, deletions hidden, byte order, from a key', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(keyArb, valueArb), { maxLength: 30 }),
        fc.array(opArb, { maxLength: 40 }),
        keyArb,
        fc.option(keyArb, { nil: undefined }),
        (baseEntries, ops, prefixBytes, from) => {
          const base = new MapState();
          const model = new Map<string, [Uint8Array, Uint8Array]>();
          for (const [k, v] of baseEntries) {
            base.data.set(Buffer.from(k).toString('latin1'), v);
            model.set(toHex(k), [k, v]);
          }
          const { block, tx } = applyOps(base, ops, model);
          for (const prefix of [prefixBytes.subarray(0, 1), prefixBytes, new Uint8Array(0)]) {
            expect(list(tx, prefix, from)).toEqual(modelList(model, prefix, from));
          }
          // absorbing changes nothing in what is listed
          block.absorb(tx);
          expect(list(block, prefixBytes.subarray(0, 1), from)).toEqual(modelList(model, prefixBytes.subarray(0, 1), from));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('stopping early reads no further, and iteration is lazy over the base', () => {
    const base = new MapState();
    for (let i = 0; i < 10; i++) base.data.set(String.fromCharCode(1, i), Uint8Array.of(i));
    let pulled = 0;
    const counting: StateReader = {
      get: (k) => base.get(k),
      *iterate(prefix, from) {
        for (const e of base.iterate(prefix, from)) {
          pulled++;
          yield e;
        }
      },
    };
    const o = new StateOverlay(counting);
    o.delete(Uint8Array.of(1, 0));
    const first = o.iterate(Uint8Array.of(1)).next();
    expect(first.value?.[0]).toEqual(Uint8Array.of(1, 1));
    expect(pulled).toBe(2);
  });

  it('over the LevelDB store (a loaded block view): the same as the sorted model', async () => {
    const dir = tempDir();
    const db = await Database.open(dir);
    const ws = await WorldState.open(db);
    const runs = fc.sample(
      fc.tuple(fc.array(fc.tuple(keyArb, valueArb), { maxLength: 40 }), fc.array(opArb, { maxLength: 30 }), keyArb, fc.option(keyArb, { nil: undefined })),
      { numRuns: 25, seed: 7 },
    );
    const committed = new Map<string, [Uint8Array, Uint8Array]>();
    for (const [baseEntries, ops, prefixBytes, from] of runs) {
      // each run commits more entries (and deletes some), then lists through a view of the store
      const changes = baseEntries.map(([k, v], i) => ({ key: k, value: i % 5 === 4 ? undefined : v }));
      await commitBlock(db, ws, changes);
      for (const c of [...changes].reverse().filter((c, i, all) => all.findIndex((d) => compareBytes(d.key, c.key) === 0) === i)) {
        if (c.value === undefined) committed.delete(toHex(c.key));
        else committed.set(toHex(c.key), [c.key, c.value]);
      }
      const prefix = prefixBytes.subarray(0, 1);
      const view = await ws.load({ prefixes: [prefix] });
      expect(list(view, prefix, undefined)).toEqual(modelList(committed, prefix, undefined));
      const model = new Map(committed);
      const { tx } = applyOps(
        view,
        ops.filter((op) => op.key[0] === prefix[0]),
        model,
      );
      expect(list(tx, prefix, from)).toEqual(modelList(model, prefix, from));
      expect(list(tx, prefixBytes, from)).toEqual(modelList(model, prefixBytes, from));
    }
    await ws.close();
    await db.close();
  });
});

// ---- iteration interleaved with writes ----

const ALPHABET = [0x00, 0x01, 0x7f, 0x80, 0xff];
type Interleaved =
  | { kind: 'set'; key: Uint8Array; value: Uint8Array }
  | { kind: 'delete'; key: Uint8Array }
  | { kind: 'open'; prefix: Uint8Array; from: Uint8Array | undefined }
  | { kind: 'next'; which: number }
  | { kind: 'close'; which: number };
const interleavedArb: fc.Arbitrary<Interleaved> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('set' as const), key: keyArb, value: valueArb }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), key: keyArb }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('open' as const),
      prefix: keyArb.map((k) => k.subarray(0, k.length - 1)),
      from: fc.option(keyArb, { nil: undefined }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('next' as const), which: fc.nat() }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('close' as const), which: fc.nat() }), weight: 1 },
);

/**
 * The reference for an iteration of the top layer while that layer is written: it lists
 * the keys present when it began, or written in the top layer by then (a deletion too),
 * in byte order, each with the value it has when reached (skipped if deleted by then).
 */
class ModelState {
  readonly keys = new Map<string, Uint8Array>();
  readonly base = new Map<string, Uint8Array>();
  readonly lower = new Map<string, Uint8Array | undefined>();
  readonly top = new Map<string, Uint8Array | undefined>();

  value(h: string): Uint8Array | undefined {
    if (this.top.has(h)) return this.top.get(h);
    if (this.lower.has(h)) return this.lower.get(h);
    return this.base.get(h);
  }

  open(prefix: Uint8Array, from: Uint8Array | undefined): { next(): string | undefined } {
    const candidates = [...this.keys.entries()]
      .filter(
        ([h, k]) =>
          (this.value(h) !== undefined || this.top.has(h)) &&
          Buffer.from(k.subarray(0, prefix.length)).equals(prefix) &&
          (from === undefined || compareBytes(k, from) >= 0),
      )
      .sort(([, a], [, b]) => compareBytes(a, b))
      .map(([h]) => h);
    let i = 0;
    return {
      next: () => {
        while (i < candidates.length) {
          const h = candidates[i++]!;
          const v = this.value(h);
          if (v !== undefined) return `${h}=${toHex(v)}`;
        }
        return undefined;
      },
    };
  }
}

/** Keys over ALPHABET from a seed: many in each bucket of the overlay's index. */
function manyKeys(n: number, seed: number): Uint8Array[] {
  let x = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    let y = x;
    return Uint8Array.from({ length: 1 + (y % 7) }, () => {
      y = Math.floor(y / 5) + 7919;
      return ALPHABET[y % 5]!;
    });
  });
}

const entryText = (r: IteratorResult<StateEntry>): string | undefined => (r.done === true ? undefined : `${toHex(r.value[0])}=${toHex(r.value[1])}`);

describe('iteration interleaved with writes', () => {
  it('open iterations list what the model lists while the overlay is written, over a lower overlay and a base, while other iterations merge new keys in', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(keyArb, valueArb), { maxLength: 20 }),
        fc.array(fc.tuple(keyArb, fc.option(valueArb, { nil: undefined })), { maxLength: 20 }),
        fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 400 })),
        fc.integer(),
        fc.array(interleavedArb, { maxLength: 80 }),
        (baseEntries, lowerWrites, prefill, seed, ops) => {
          const model = new ModelState();
          const base = new MapState();
          for (const [k, v] of baseEntries) {
            base.data.set(Buffer.from(k).toString('latin1'), v);
            model.keys.set(toHex(k), k);
            model.base.set(toHex(k), v);
          }
          const lower = new StateOverlay(base);
          for (const [k, v] of lowerWrites) {
            if (v === undefined) lower.delete(k);
            else lower.set(k, v);
            model.keys.set(toHex(k), k);
            model.lower.set(toHex(k), v);
          }
          const top = new StateOverlay(lower);
          const write = (k: Uint8Array, v: Uint8Array | undefined) => {
            if (v === undefined) top.delete(k);
            else top.set(k, v);
            model.keys.set(toHex(k), k);
            model.top.set(toHex(k), v);
          };
          manyKeys(prefill, seed).forEach((k, i) => write(k, i % 4 === 3 ? undefined : Uint8Array.of(i & 0xff, i >> 8)));
          const open: { real: IterableIterator<StateEntry>; model: { next(): string | undefined } }[] = [];
          for (const op of ops) {
            if (op.kind === 'set') write(op.key, op.value);
            else if (op.kind === 'delete') write(op.key, undefined);
            else if (op.kind === 'open') {
              // Iteration begins at the first next(): open and take the first entry together.
              const it = { real: top.iterate(op.prefix, op.from), model: model.open(op.prefix, op.from) };
              expect(entryText(it.real.next())).toEqual(it.model.next());
              open.push(it);
            } else if (open.length > 0) {
              const at = op.which % open.length;
              if (op.kind === 'next') expect(entryText(open[at]!.real.next())).toEqual(open[at]!.model.next());
              else open.splice(at, 1)[0]!.real.return?.();
            }
          }
          // Whatever was left open runs to its end; changes() is every top write in byte order.
          for (const it of open) {
            for (let r = it.real.next(); ; r = it.real.next()) {
              expect(entryText(r)).toEqual(it.model.next());
              if (r.done === true) break;
            }
          }
          const expected = [...model.top.keys()]
            .map((h) => model.keys.get(h)!)
            .sort(compareBytes)
            .map((k) => `${toHex(k)}=${model.top.get(toHex(k)) === undefined ? '-' : toHex(model.top.get(toHex(k))!)}`);
          expect(top.changes().map((c) => `${toHex(c.key)}=${c.value === undefined ? '-' : toHex(c.value)}`)).toEqual(expected);
          lower.absorb(top);
          expect(lower.changes().map((c) => toHex(c.key))).toEqual(
            [...new Set([...model.lower.keys(), ...model.top.keys()])]
              .map((h) => model.keys.get(h)!)
              .sort(compareBytes)
              .map(toHex),
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('an iteration over a prefix the layer holds no write under', () => {
  it('lists the base as it is until the layer is written to, then what the writes made of the rest', () => {
    const base = new MapState();
    for (let k = 0; k < 6; k++) base.data.set(Buffer.from([2, k]).toString('latin1'), Uint8Array.of(k));
    const lower = new StateOverlay(base);
    lower.set(Uint8Array.of(3, 0), Uint8Array.of(0x33));
    const top = new StateOverlay(lower);
    top.set(Uint8Array.of(1, 0), Uint8Array.of(0x11));
    const it = top.iterate(Uint8Array.of(2));
    expect(entryText(it.next())).toBe('0200=00');
    expect(entryText(it.next())).toBe('0201=01');
    // Ahead of the walk: the next entry changed, one deleted, one changed further on, and a new key.
    top.set(Uint8Array.of(2, 2), Uint8Array.of(0xee));
    top.delete(Uint8Array.of(2, 3));
    top.set(Uint8Array.of(2, 5), Uint8Array.of(0xff));
    top.set(Uint8Array.of(2, 6), Uint8Array.of(0x66));
    expect([...it].map(([k, v]) => `${toHex(k)}=${toHex(v)}`)).toEqual(['0202=ee', '0204=04', '0205=ff']);
  });
});

describe('an open iteration when another one merges new keys in', () => {
  // 3 keys: the new one is merged in a new array; 20: put in place in the same array.
  it.each([3, 20])('neither repeats nor skips an entry, nor lists the new key (%i keys in the bucket)', (n) => {
    const o = new StateOverlay(new MapState());
    for (let k = 0; k < n; k++) o.set(Uint8Array.of(1, 1, 2 * k), Uint8Array.of(k));
    const a = o.iterate(Uint8Array.of(1, 1));
    expect(entryText(a.next())).toBe('010100=00');
    expect(entryText(a.next())).toBe('010102=01');
    // a key before a's place, then an iteration that sorts it into the same bucket
    o.set(Uint8Array.of(1, 1, 1), Uint8Array.of(0xff));
    expect(entryText(o.iterate(Uint8Array.of(1, 1)).next())).toBe('010100=00');
    const rest = [...a].map(([k]) => k[2]);
    expect(rest).toEqual(Array.from({ length: n - 2 }, (_, i) => 2 * (i + 2)));
  });
});

describe('byteId', () => {
  it('is the latin-1 text of the bytes, one char per byte, whatever the length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), fc.nat(8), (bytes, off) => {
        const view = new Uint8Array(bytes.length + off + 3).subarray(off, off + bytes.length);
        view.set(bytes);
        const id = byteId(view);
        expect(id.length).toBe(bytes.length);
        expect(Array.from(id, (c) => c.charCodeAt(0))).toEqual(Array.from(bytes));
      }),
      { numRuns: 300 },
    );
  });
});

describe('headEntries', () => {
  /** A reader of n entries under 0x01 that counts what is pulled and, like a loaded slice, throws past `end`. */
  const slice = (n: number, end: number) => {
    const seen = { pulled: 0, closed: 0 };
    const reader: StateReader = {
      get: () => undefined,
      iterate: () => {
        let i = 0;
        return {
          next: () => {
            if (i >= end) throw new Error('read past the loaded slice');
            seen.pulled++;
            return i < n ? { done: false, value: [new Uint8Array([1, i]), new Uint8Array([i++])] as StateEntry } : { done: true, value: undefined };
          },
          return: () => {
            seen.closed++;
            return { done: true, value: undefined };
          },
          [Symbol.iterator]() {
            return this;
          },
        } as IterableIterator<StateEntry>;
      },
    };
    return { reader, seen };
  };

  it('pulls an entry only when the loop asks for it, and closes the iteration when the loop stops', () => {
    const { reader, seen } = slice(10, 5);
    for (const [, v] of headEntries(reader, new Uint8Array([1]), 5)) if (v[0] === 2) break;
    expect(seen).toEqual({ pulled: 3, closed: 1 });
  });

  it('never reads past its limit, which a loaded slice of that limit would refuse', () => {
    const { reader } = slice(10, 5);
    expect(firstEntries(reader, new Uint8Array([1]), 5).map(([, v]) => v[0])).toEqual([0, 1, 2, 3, 4]);
    expect(() => firstEntries(reader, new Uint8Array([1]), 6)).toThrow('read past the loaded slice');
  });
});
