/**
 * A binary heap with optional position tracking. The mempool needs two kinds: a long-lived
 * eviction heap whose items change key in place (so each item remembers its index and can
 * be re-sifted or removed in O(log n)), and a short-lived selection heap built once per
 * block (heapified in O(n), then popped). One class serves both; `onMove` is the hook
 * that keeps the remembered index right.
 */
export class Heap<T> {
  private readonly items: T[] = [];
  /** `less(a, b)` true when a belongs nearer the top than b. */
  private readonly less: (a: T, b: T) => boolean;
  private readonly onMove: ((item: T, index: number) => void) | undefined;

  constructor(less: (a: T, b: T) => boolean, onMove?: (item: T, index: number) => void) {
    this.less = less;
    this.onMove = onMove;
  }

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** A copy of the items, in heap (not sorted) order. */
  toArray(): T[] {
    return this.items.slice();
  }

  push(item: T): void {
    this.items.push(item);
    this.moved(item, this.items.length - 1);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.removeAt(0);
    return top;
  }

  /** Replaces the whole content and restores heap order bottom-up: O(n), cheaper than n pushes. */
  heapify(items: readonly T[]): void {
    this.items.length = 0;
    for (let i = 0; i < items.length; i++) {
      this.items.push(items[i]!);
      this.moved(items[i]!, i);
    }
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** Removes the item at `index` (as reported through onMove). */
  removeAt(index: number): void {
    const items = this.items;
    const last = items.pop()!;
    if (index === items.length) return; // it was the last slot
    items[index] = last;
    this.moved(last, index);
    this.update(index);
  }

  /** Restores order after the key of the item at `index` changed, in either direction. */
  update(index: number): void {
    if (!this.up(index)) this.down(index);
  }

  private up(i: number): boolean {
    const items = this.items;
    const item = items[i]!;
    const start = i;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (!this.less(item, p)) break;
      items[i] = p;
      this.moved(p, i);
      i = parent;
    }
    if (i !== start) {
      items[i] = item;
      this.moved(item, i);
    }
    return i !== start;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i]!;
    const start = i;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(items[r]!, items[l]!) ? r : l;
      const child = items[c]!;
      if (!this.less(child, item)) break;
      items[i] = child;
      this.moved(child, i);
      i = c;
    }
    if (i !== start) {
      items[i] = item;
      this.moved(item, i);
    }
  }

  private moved(item: T, index: number): void {
    if (this.onMove !== undefined) this.onMove(item, index);
  }
}
