import type { Entry } from './entry.ts';

/**
 * Entries in admission order, so the oldest is always at the front: age expiry looks only
 * at the front. Entries that left the pool otherwise (mined, evicted, replaced) are
 * skipped when they reach the front, and the queue is compacted once those outnumber the
 * live ones, so it never holds more than about twice the pool.
 */
export class AgeQueue {
  private items: Entry[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(e: Entry, live: number, isLive: (e: Entry) => boolean): void {
    this.items.push(e);
    if (this.length > 2 * live + 1024) this.compact(isLive);
  }

  /** The oldest live entry, after dropping the dead ones in front of it. */
  peek(isLive: (e: Entry) => boolean): Entry | undefined {
    while (this.head < this.items.length) {
      const e = this.items[this.head]!;
      if (isLive(e)) return e;
      this.head++;
    }
    this.items = [];
    this.head = 0;
    return undefined;
  }

  shift(): void {
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  private compact(isLive: (e: Entry) => boolean): void {
    const kept: Entry[] = [];
    for (let i = this.head; i < this.items.length; i++) if (isLive(this.items[i]!)) kept.push(this.items[i]!);
    this.items = kept;
    this.head = 0;
  }
}
