import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { compareBytes, toHex } from '../core/bytes.ts';
import { Database } from './db.ts';
import { StateOverlay, type StateReader } from './overlay.ts';
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
