/**
 * Runs async tasks one at a time, in submission order. Everything that reads or moves
 * the chain head (consensus steps, block import from sync or gossip, commits) goes
 * through one queue, so no two of them interleave.
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;
  private readonly onError: (e: unknown) => void;

  constructor(onError: (e: unknown) => void) {
    this.onError = onError;
  }

  get length(): number {
    return this.pending;
  }

  push<T>(task: () => Promise<T> | T): Promise<T | undefined> {
    this.pending++;
    const run = this.tail.then(async () => {
      try {
        return await task();
      } catch (e) {
        this.onError(e);
        return undefined;
      } finally {
        this.pending--;
      }
    });
    this.tail = run.then(() => undefined);
    return run;
  }

  /**
   * Like push, for work that may be shed under overload (messages from the network, which
   * QBFT's round changes and block sync recover from): refused while `limit` tasks wait.
   */
  offer(task: () => Promise<unknown> | unknown, limit: number): boolean {
    if (this.pending >= limit) return false;
    void this.push(task);
    return true;
  }

  /** Resolves once every task submitted so far has finished. */
  idle(): Promise<void> {
    return this.tail;
  }
}
