import { describe, expect, it } from 'vitest';
import { AgeQueue } from './age-queue.ts';
import type { Entry } from './entry.ts';

const entry = (seq: number): Entry => ({ seq, admittedAt: seq }) as Entry;

describe('AgeQueue', () => {
  it('yields the oldest live entry, skipping those that left the pool', () => {
    const q = new AgeQueue();
    const live = new Set<Entry>();
    const isLive = (e: Entry) => live.has(e);
    const es = [0, 1, 2, 3].map(entry);
    for (const e of es) {
      live.add(e);
      q.push(e, live.size, isLive);
    }
    live.delete(es[0]!);
    live.delete(es[2]!);
    expect(q.peek(isLive)).toBe(es[1]);
    q.shift();
    expect(q.peek(isLive)).toBe(es[3]);
    q.shift();
    expect(q.peek(isLive)).toBeUndefined();
  });

  it('stays within twice the live count (plus a constant) however many entries pass through it', () => {
    const q = new AgeQueue();
    const live = new Set<Entry>();
    const isLive = (e: Entry) => live.has(e);
    let most = 0;
    for (let i = 0; i < 100_000; i++) {
      const e = entry(i);
      live.add(e);
      q.push(e, live.size, isLive);
      if (i % 10 !== 0) live.delete(e); // nine in ten leave by other ways (mined, evicted)
      most = Math.max(most, q.length);
    }
    expect(live.size).toBe(10_000);
    expect(most).toBeLessThanOrEqual(2 * live.size + 1025);
  });
});
