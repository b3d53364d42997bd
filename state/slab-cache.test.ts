import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../core/hash.ts';
import { SlabCache } from './slab-cache.ts';

const hashOf = (n: number) => sha256(Uint8Array.of(n & 0xff, n >> 8));
const recordOf = (n: number, v: number) => Uint8Array.from({ length: 5 }, (_, i) => (n * 7 + v * 13 + i) & 0xff);

describe('SlabCache', () => {
  it('never answers a wrong record, holds at most its capacity, and keeps what it was given until evicted', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ op: fc.constantFrom('set', 'get'), n: fc.nat(60), version: fc.nat(3), v: fc.nat(9) }), { maxLength: 400 }), (ops) => {
        // 64 slots of 46 bytes: capacity 48, so evictions and probe runs wrap around
        const cache = new SlabCache(5, 64 * 46);
        const last = new Map<string, Uint8Array>();
        for (const { op, n, version, v } of ops) {
          const id = `${n}/${version}`;
          if (op === 'set') {
            cache.set(version, hashOf(n), recordOf(n, v));
            last.set(id, recordOf(n, v));
          } else {
            const got = cache.get(version, hashOf(n));
            if (got !== undefined) expect([...got]).toEqual([...last.get(id)!]);
          }
          expect(cache.size).toBeLessThanOrEqual(48);
        }
        // every entry it still counts is findable with its latest record
        let found = 0;
        for (const [id, record] of last) {
          const [n, version] = id.split('/').map(Number) as [number, number];
          const got = cache.get(version, hashOf(n));
          if (got !== undefined) {
            found++;
            expect([...got]).toEqual([...record]);
          }
        }
        expect(found).toBe(cache.size);
        expect(cache.size).toBe(Math.min(last.size, 48));
      }),
      { numRuns: 300 },
    );
  });

  it('evicts unmarked entries before marked (recently read) ones', () => {
    // 4096 slots of 46 bytes: capacity 3072
    const cache = new SlabCache(5, 4096 * 46);
    for (let n = 0; n < 3072; n++) cache.set(0, hashOf(n), recordOf(n, 0));
    for (let n = 0; n < 3072; n += 2) cache.get(0, hashOf(n)); // mark the even ones
    for (let n = 3072; n < 3072 + 1024; n++) cache.set(1, hashOf(n), recordOf(n, 1));
    expect(cache.size).toBe(3072);
    let even = 0;
    let odd = 0;
    for (let n = 0; n < 3072; n++) if (cache.get(0, hashOf(n)) !== undefined) n % 2 === 0 ? even++ : odd++;
    // 1024 evictions: a marked entry is only ever evicted after a sample cleared its mark
    expect(even).toBeGreaterThan(1300);
    expect(odd).toBeLessThan(1000);
  });
});
