/**
 * A cache of fixed-size records in one preallocated buffer: an open-addressing hash table
 * (linear probing, backward-shift deletion) keyed by (version, 32-byte hash), evicting by
 * sampled second chance: a hit sets a mark; eviction looks at random slots, clears the
 * mark of a marked entry and evicts the first unmarked one. Random, not a sweeping clock
 * hand: a hand empties the region behind it and packs the rest, and linear probing
 * degrades with local density (probe runs of thousands).
 *
 * Why not a Map of objects: a decoded tree node costs ~750 bytes of JavaScript heap
 * (objects, typed-array views, the Map entry) and every cached object is marked by each
 * major GC; here an inner node's record costs 128 bytes outside the heap, so the same
 * memory holds ~6 times as many nodes and the garbage collector never sees them. The
 * memory is exactly `bytes` (rounded down to whole slots), allocated once.
 */
const KEY_BYTES = 8 + 32;
const FLAG_OCCUPIED = 1;
const FLAG_USED = 2;

export class SlabCache {
  private readonly recordBytes: number;
  private readonly slotBytes: number;
  private readonly slab: Uint8Array;
  private readonly view: DataView;
  private readonly mask: number;
  private readonly capacity: number;
  private count = 0;
  /** xorshift32 state: where eviction looks (deterministic; only performance depends on it). */
  private seed = 0x2545f491;

  /** `recordBytes`: the fixed size of every record; `bytes`: the memory to use. */
  constructor(recordBytes: number, bytes: number) {
    this.recordBytes = recordBytes;
    this.slotBytes = 1 + KEY_BYTES + recordBytes;
    // A power-of-two table, filled to at most 3/4 so probes stay short.
    let slots = 1;
    while (slots * 2 * this.slotBytes <= bytes) slots *= 2;
    this.mask = slots - 1;
    this.capacity = Math.floor((slots * 3) / 4);
    this.slab = new Uint8Array(slots * this.slotBytes);
    this.view = new DataView(this.slab.buffer);
  }

  get size(): number {
    return this.count;
  }

  get bytes(): number {
    return this.slab.length;
  }

  private home(version: number, hash: Uint8Array): number {
    const h = ((hash[0]! << 24) | (hash[1]! << 16) | (hash[2]! << 8) | hash[3]!) ^ Math.imul(version >>> 0, 0x9e3779b1);
    return (h >>> 0) & this.mask;
  }

  private homeOfSlot(slot: number): number {
    const off = slot * this.slotBytes;
    const version = this.view.getUint32(off + 5);
    const s = this.slab;
    const h = ((s[off + 9]! << 24) | (s[off + 10]! << 16) | (s[off + 11]! << 8) | s[off + 12]!) ^ Math.imul(version >>> 0, 0x9e3779b1);
    return (h >>> 0) & this.mask;
  }

  private matches(slot: number, version: number, hash: Uint8Array): boolean {
    const off = slot * this.slotBytes;
    if (this.view.getUint32(off + 1) !== Math.floor(version / 0x1_0000_0000) || this.view.getUint32(off + 5) !== version >>> 0) return false;
    const s = this.slab;
    for (let i = 0; i < 32; i++) if (s[off + 9 + i] !== hash[i]) return false;
    return true;
  }

  private find(version: number, hash: Uint8Array): number {
    for (let slot = this.home(version, hash); ; slot = (slot + 1) & this.mask) {
      if ((this.slab[slot * this.slotBytes]! & FLAG_OCCUPIED) === 0) return -1;
      if (this.matches(slot, version, hash)) return slot;
    }
  }

  /** The record cached for (version, hash), as a view valid until the next `set` (copy what you keep). */
  get(version: number, hash: Uint8Array): Uint8Array | undefined {
    const slot = this.find(version, hash);
    if (slot < 0) return undefined;
    const off = slot * this.slotBytes;
    this.slab[off] = FLAG_OCCUPIED | FLAG_USED;
    return this.slab.subarray(off + 1 + KEY_BYTES, off + this.slotBytes);
  }

  set(version: number, hash: Uint8Array, record: Uint8Array): void {
    if (record.length !== this.recordBytes) throw new Error(`slab record of ${record.length} bytes, expected ${this.recordBytes}`);
    let slot = this.find(version, hash);
    if (slot < 0) {
      if (this.count >= this.capacity) this.evictOne();
      slot = this.home(version, hash);
      while ((this.slab[slot * this.slotBytes]! & FLAG_OCCUPIED) !== 0) slot = (slot + 1) & this.mask;
      const off = slot * this.slotBytes;
      this.view.setUint32(off + 1, Math.floor(version / 0x1_0000_0000));
      this.view.setUint32(off + 5, version >>> 0);
      this.slab.set(hash, off + 9);
      this.count++;
    }
    const off = slot * this.slotBytes;
    this.slab[off] = FLAG_OCCUPIED;
    this.slab.set(record, off + 1 + KEY_BYTES);
  }

  private evictOne(): void {
    for (;;) {
      let x = this.seed;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.seed = x;
      const slot = (x >>> 0) & this.mask;
      const off = slot * this.slotBytes;
      const flags = this.slab[off]!;
      if ((flags & FLAG_OCCUPIED) === 0) continue;
      if ((flags & FLAG_USED) === 0) {
        this.remove(slot);
        return;
      }
      this.slab[off] = FLAG_OCCUPIED;
    }
  }

  /** Empties `slot`, moving later entries of its probe run back so every lookup still finds them. */
  private remove(slot: number): void {
    let hole = slot;
    for (let j = (hole + 1) & this.mask; (this.slab[j * this.slotBytes]! & FLAG_OCCUPIED) !== 0; j = (j + 1) & this.mask) {
      const k = this.homeOfSlot(j);
      // j stays if its home lies cyclically in (hole, j]
      const stays = hole <= j ? hole < k && k <= j : hole < k || k <= j;
      if (stays) continue;
      this.slab.copyWithin(hole * this.slotBytes, j * this.slotBytes, (j + 1) * this.slotBytes);
      hole = j;
    }
    this.slab.fill(0, hole * this.slotBytes, (hole + 1) * this.slotBytes);
    this.count--;
  }
}
