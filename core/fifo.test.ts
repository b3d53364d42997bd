import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Fifo } from './fifo.ts';

describe('Fifo', () => {
  it('behaves as an array used as a queue, whatever the mix of pushes, shifts and drains (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.nat({ max: 3000 }).map((n) => ({ push: n })),
            fc.constant('shift' as const),
            fc.constant('drain' as const),
          ),
          { maxLength: 400 },
        ),
        (ops) => {
          const q = new Fifo<number>();
          let model: number[] = [];
          for (const op of ops) {
            if (op === 'shift') expect(q.shift()).toBe(model.shift());
            else if (op === 'drain') {
              expect(q.drain()).toEqual(model);
              model = [];
            } else for (let i = 0; i < op.push; i++) q.push(i), model.push(i);
            expect(q.length).toBe(model.length);
            expect(q.peek()).toBe(model[0]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
