/**
 * A least-recently-used cache bounded by an estimate of the bytes it holds. A Map keeps
 * insertion order, so moving a hit to the end and evicting from the front is LRU.
 * Eviction walks one long-lived iterator: asking a fresh `keys()` for its first entry
 * would step over every entry deleted at the front since the Map last rehashed, which
 * makes a full cache quadratic.
 */
export class LruCache<V, K = string> {
  private readonly map = new Map<K, { value: V; bytes: number }>();
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
    this.map.delete(key);
    this.map.set(key, e);
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
    this.map.set(key, { value, bytes });
    this.held += bytes;
    while (this.held > this.maxBytes) this.evictOldest();
  }

  private evictOldest(): void {
    for (;;) {
      this.evictor ??= this.map.keys();
      const next = this.evictor.next();
      if (next.done === true) {
        this.evictor = undefined;
        continue;
      }
      const e = this.map.get(next.value);
      if (e === undefined) continue;
      this.held -= e.bytes;
      this.map.delete(next.value);
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
