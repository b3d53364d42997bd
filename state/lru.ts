/**
 * A least-recently-used cache bounded by an estimate of the bytes it holds. A Map keeps
 * insertion order, so moving a hit to the end and evicting from the front is LRU.
 */
export class LruCache<V> {
  private readonly map = new Map<string, { value: V; bytes: number }>();
  private readonly maxBytes: number;
  private readonly sizeOf: (key: string, value: V) => number;
  private held = 0;

  /** `sizeOf`: the bytes an entry costs, overhead included (an estimate is enough). */
  constructor(maxBytes: number, sizeOf: (key: string, value: V) => number) {
    this.maxBytes = maxBytes;
    this.sizeOf = sizeOf;
  }

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  set(key: string, value: V): void {
    const bytes = this.sizeOf(key, value);
    const old = this.map.get(key);
    if (old !== undefined) {
      this.held -= old.bytes;
      this.map.delete(key);
    }
    if (bytes > this.maxBytes) return;
    this.map.set(key, { value, bytes });
    this.held += bytes;
    while (this.held > this.maxBytes) {
      const first = this.map.keys().next().value!;
      this.held -= this.map.get(first)!.bytes;
      this.map.delete(first);
    }
  }

  delete(key: string): void {
    const old = this.map.get(key);
    if (old === undefined) return;
    this.held -= old.bytes;
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
    this.held = 0;
  }

  get size(): number {
    return this.map.size;
  }

  get bytes(): number {
    return this.held;
  }
}
