/**
 * Requests whose work grows with the chain (a whole block read, hashed or formatted; a page
 * of a thousand readings) running at once on one port, all clients together. Without it the
 * bound was the connection caps times what each connection may have in flight: thousands of
 * multi-megabyte answers in the making. At most `maxRunning` run; more wait their turn, first
 * come first served, up to `maxWaiting`; beyond, SERVER_BUSY at once. A waiter whose client
 * goes away leaves the line. Both ports use one each (rpc/http/, rpc/grpc/).
 */
import { ErrorCode, JouleError } from '../core/errors.ts';
import { Fifo } from '../core/fifo.ts';

interface Waiter {
  readonly start: () => void;
  gone: boolean;
}

const COSTLY_REQUESTS_RUNNING = 16;
const COSTLY_REQUESTS_WAITING = 1024;

export class WorkLimiter {
  readonly maxRunning: number;
  readonly maxWaiting: number;
  #running = 0;
  #waiting = 0;
  readonly #line = new Fifo<Waiter>();

  constructor(maxRunning = COSTLY_REQUESTS_RUNNING, maxWaiting = COSTLY_REQUESTS_WAITING) {
    this.maxRunning = maxRunning;
    this.maxWaiting = maxWaiting;
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting;
  }

  /** Runs `work` in its turn. Rejects with SERVER_BUSY when the line is full, and with `onGone()` when `signal` aborts while it waits. */
  async run<T>(work: () => Promise<T>, signal: AbortSignal | undefined, onGone: () => Error): Promise<T> {
    await this.#enter(signal, onGone);
    try {
      return await work();
    } finally {
      this.#leave();
    }
  }

  #enter(signal: AbortSignal | undefined, onGone: () => Error): Promise<void> {
    if (signal?.aborted === true) return Promise.reject(onGone());
    if (this.#running < this.maxRunning) {
      this.#running++;
      return Promise.resolve();
    }
    if (this.#waiting >= this.maxWaiting)
      return Promise.reject(
        new JouleError(
          ErrorCode.SERVER_BUSY,
          `${this.#running} costly requests (whole blocks, pages of readings) are running and ${this.#waiting} waiting; retry later`,
        ),
      );
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (waiter.gone) return;
        waiter.gone = true;
        this.#waiting--;
        reject(onGone());
      };
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        gone: false,
      };
      this.#line.push(waiter);
      this.#waiting++;
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #leave(): void {
    this.#running--;
    for (let w = this.#line.shift(); w !== undefined; w = this.#line.shift()) {
      if (w.gone) continue;
      w.gone = true;
      this.#waiting--;
      this.#running++;
      w.start();
      return;
    }
  }
}
