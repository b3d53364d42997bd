/**
 * What a fuzzing worker shares with its watchdog (child.ts) without messages, so that the
 * watchdog still knows the input at hand when the worker is stuck in it: the input's index,
 * when it started (Date.now()), and a copy of its bytes (up to INPUT_CAPACITY).
 */
export const INPUT_CAPACITY = 4 * 1024 * 1024;
const HEADER_BYTES = 32;

/** Int32 slots of the header. */
const RUNNING = 0;
const INDEX = 1;
const LENGTH = 2;
/** Float64 slot (at byte 16) of the header. */
const STARTED = 2;

export class SharedInput {
  readonly buffer: SharedArrayBuffer;
  private readonly ints: Int32Array;
  private readonly floats: Float64Array;
  private readonly bytes: Uint8Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(HEADER_BYTES + INPUT_CAPACITY)) {
    this.buffer = buffer;
    this.ints = new Int32Array(buffer, 0, 4);
    this.floats = new Float64Array(buffer, 0, 4);
    this.bytes = new Uint8Array(buffer, HEADER_BYTES);
  }

  /** The worker, before running input `index`. */
  begin(index: number, input: Uint8Array): void {
    const n = Math.min(input.length, INPUT_CAPACITY);
    this.bytes.set(n === input.length ? input : input.subarray(0, n));
    Atomics.store(this.ints, LENGTH, input.length);
    Atomics.store(this.ints, INDEX, index);
    this.floats[STARTED] = Date.now();
    Atomics.store(this.ints, RUNNING, 1);
  }

  /** The worker, after it. */
  end(): void {
    Atomics.store(this.ints, RUNNING, 0);
  }

  /** The watchdog: the input running now and since when, or undefined between inputs. */
  current(): { index: number; startedAt: number; input: Uint8Array; truncated: boolean } | undefined {
    if (Atomics.load(this.ints, RUNNING) !== 1) return undefined;
    const length = Atomics.load(this.ints, LENGTH);
    const kept = Math.min(length, INPUT_CAPACITY);
    return { index: Atomics.load(this.ints, INDEX), startedAt: this.floats[STARTED]!, input: this.bytes.slice(0, kept), truncated: kept < length };
  }
}
