import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Heap } from './heap.ts';

interface Item {
  v: number;
  at: number;
}

describe('Heap', () => {
  it('pops in order after pushes, heapify, key changes and removals, keeping positions right', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 })), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 50 }), fc.boolean())), (init, edits) => {
        const h = new Heap<Item>(
          (a, b) => a.v < b.v,
          (it, i) => {
            it.at = i;
          },
        );
        const live = init.map((v) => ({ v, at: -1 }));
        h.heapify(live);
        for (const [pick, v, del] of edits) {
          if (live.length === 0 || !del) {
            const it = { v, at: -1 };
            h.push(it);
            live.push(it);
            continue;
          }
          const it = live[pick % live.length]!;
          if (pick % 2 === 0) {
            h.removeAt(it.at);
            live.splice(live.indexOf(it), 1);
          } else {
            it.v = v;
            h.update(it.at);
          }
        }
        const out: number[] = [];
        for (let x = h.pop(); x !== undefined; x = h.pop()) out.push(x.v);
        expect(out).toEqual(live.map((i) => i.v).sort((a, b) => a - b));
      }),
    );
  });
});
