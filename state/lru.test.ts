import { describe, expect, it } from 'vitest';
import { LruCache } from './lru.ts';

/** The reference policy: a queue, oldest first, with a mark per entry. */
class Model {
  readonly queue: { key: number; used: boolean }[] = [];
  private readonly capacity: number;
  constructor(capacity: number) {
    this.capacity = capacity;
  }
  get(key: number): boolean {
    const e = this.queue.find((x) => x.key === key);
    if (e !== undefined) e.used = true;
    return e !== undefined;
  }
  set(key: number): void {
    const at = this.queue.findIndex((x) => x.key === key);
    if (at >= 0) this.queue.splice(at, 1);
    this.queue.push({ key, used: false });
    while (this.queue.length > this.capacity) {
      const first = this.queue.shift()!;
      if (first.used) this.queue.push({ key: first.key, used: false });
    }
  }
}

describe('LruCache', () => {
  it('keeps recently used entries over unused ones, within its byte bound', () => {
    const c = new LruCache<number>(30, () => 10);
    c.set('a', 1);
    c.set('b', 2);
    c.set('c', 3);
    expect(c.get('a')).toBe(1); // a gets a second chance
    c.set('d', 4);
    expect(c.has('b')).toBe(false);
    expect([c.get('a'), c.get('c'), c.get('d')]).toEqual([1, 3, 4]);
    expect(c.bytes).toBe(30);
    c.delete('d');
    expect(c.bytes).toBe(20);
    const small = new LruCache<number, number>(1000, (_k, v) => v);
    small.set(1, 2000); // larger than the bound: not kept
    expect(small.has(1)).toBe(false);
  });

  it('long runs of gets, sets and evictions match the reference second-chance policy', () => {
    const cache = new LruCache<number, number>(64, () => 1);
    const model = new Model(64);
    let x = 12345;
    const rand = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) % 200;
    for (let step = 0; step < 20_000; step++) {
      const k = rand();
      if (step % 3 === 0) expect(cache.get(k) !== undefined).toBe(model.get(k));
      else {
        cache.set(k, k);
        model.set(k);
      }
      expect(cache.size).toBe(model.queue.length);
    }
    for (const { key } of model.queue) expect(cache.has(key)).toBe(true);
  });
});
