/**
 * A cache bounded by an estimate of the bytes it holds, evicting by "second chance" (a
 * CLOCK approximation of least-recently-used): a hit only marks the entry, so the hot
 * path never mutates the Map; eviction walks from the oldest entry, sends a marked one to
 * the back unmarked, and drops the first unmarked one. Eviction walks one long-lived
 * iterator: asking a fresh `keys()` for its first entry would step over every entry
 * deleted at the front since the Map last rehashed, which makes a full cache quadratic.
 */
export class LruCache<V, K = string> {
  private readonly map = new Map<K, { value: V; bytes: number; used: boolean }>();
  private readonly maxBytes: number;
  private readonly sizeOf: (key: K, value: V) => number;
  private held = 0;
  private evictor: Iterator<K> | undefined;

  /** `sizeOf`: the bytes an entry costs, overhead included (an estimate is enough). */
  constructor(maxBytes: number, sizeOf: (key: K, value: V) => number) {
    this.maxBytes = maxBytes;
    this.sizeOf = sizeOf;
  }

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    e.used = true;
    return e.value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): void {
    const bytes = this.sizeOf(key, value);
    const old = this.map.get(key);
    if (old !== undefined) {
      this.held -= old.bytes;
      this.map.delete(key);
    }
    if (bytes > this.maxBytes) return;
    this.map.set(key, { value, bytes, used: false });
    this.held += bytes;
    while (this.held > this.maxBytes) this.evictOne();
  }

  private evictOne(): void {
    for (;;) {
      this.evictor ??= this.map.keys();
      const next = this.evictor.next();
      if (next.done === true) {
        this.evictor = undefined;
        continue;
      }
      const e = this.map.get(next.value);
      if (e === undefined) continue;
      this.map.delete(next.value);
      if (e.used) {
        e.used = false;
        this.map.set(next.value, e); // a second chance, at the back
        continue;
      }
      this.held -= e.bytes;
      return;
    }
  }

  delete(key: K): void {
    const old = this.map.get(key);
    if (old === undefined) return;
    this.held -= old.bytes;
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
    this.held = 0;
    this.evictor = undefined;
  }

  get size(): number {
    return this.map.size;
  }

  get bytes(): number {
    return this.held;
  }
}
