import { compareBytes } from '../core/bytes.ts';

/** Synchronous read access to state; vm/ sees state only through this. */
export interface StateReader {
  get(key: Uint8Array): Uint8Array | undefined;
}

/** One change: a value, or `undefined` for a deletion. */
export interface StateChange {
  readonly key: Uint8Array;
  readonly value: Uint8Array | undefined;
}

function id(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/**
 * A copy-on-write layer over a reader. Executing a block writes here; nothing reaches the
 * base until the node commits `changes()`. Overlays nest (a tx's overlay over the block's)
 * so a failed tx can be discarded without touching what came before it.
 */
export class StateOverlay implements StateReader {
  private readonly base: StateReader;
  private readonly writes = new Map<string, StateChange>();

  constructor(base: StateReader) {
    this.base = base;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    const w = this.writes.get(id(key));
    return w !== undefined ? w.value : this.base.get(key);
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.writes.set(id(key), { key, value });
  }

  delete(key: Uint8Array): void {
    this.writes.set(id(key), { key, value: undefined });
  }

  /** Folds a child overlay's writes into this one. */
  absorb(child: StateOverlay): void {
    for (const [k, change] of child.writes) this.writes.set(k, change);
  }

  get size(): number {
    return this.writes.size;
  }

  /** The writes sorted by key: a defined order, independent of the order of execution. */
  changes(): StateChange[] {
    return [...this.writes.values()].sort((a, b) => compareBytes(a.key, b.key));
  }
}
