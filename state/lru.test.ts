import { describe, expect, it } from 'vitest';
import { LruCache } from './lru.ts';

describe('LruCache', () => {
  it('evicts the least recently used entries to stay within its byte bound', () => {
    const c = new LruCache<number>(30, () => 10);
    c.set('a', 1);
    c.set('b', 2);
    c.set('c', 3);
    expect(c.get('a')).toBe(1); // a is now the most recent
    c.set('d', 4);
    expect(c.has('b')).toBe(false);
    expect([c.get('a'), c.get('c'), c.get('d')]).toEqual([1, 3, 4]);
    expect(c.bytes).toBe(30);
    c.set('big', 5); // replaces nothing, evicts the oldest until it fits
    expect(c.size).toBe(3);
    c.delete('big');
    expect(c.bytes).toBe(20);
  });

  it('an entry larger than the bound is not kept; long runs of gets, sets and evictions match a reference LRU', () => {
    const c = new LruCache<number, number>(1000, (_k, v) => v);
    c.set(1, 2000);
    expect(c.has(1)).toBe(false);
    // reference: an array, most recent last
    const cache = new LruCache<number, number>(64, () => 1);
    const model: number[] = [];
    let x = 12345;
    const rand = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) % 200;
    for (let step = 0; step < 20_000; step++) {
      const k = rand();
      if (step % 3 === 0) {
        const hit = cache.get(k);
        const at = model.indexOf(k);
        expect(hit).toBe(at >= 0 ? k : undefined);
        if (at >= 0) model.push(...model.splice(at, 1));
      } else {
        cache.set(k, k);
        const at = model.indexOf(k);
        if (at >= 0) model.splice(at, 1);
        model.push(k);
        if (model.length > 64) model.shift();
      }
      expect(cache.size).toBe(model.length);
    }
    for (const k of model) expect(cache.has(k)).toBe(true);
  });
});
