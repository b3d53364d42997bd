/**
 * What scraping `/metrics` may cost the node, however many clients scrape it and however
 * often. Collecting the registry runs on the main thread, so:
 * - scrapes that arrive before a collection starts share it: a thousand at once cost one;
 * - the next collection starts no sooner than the last one's own duration after it ended,
 *   so collecting takes at most half of the thread's time.
 * Every answer is collected after its request arrived: a scrape that arrives while a
 * collection runs waits for the next one, so it never misses what happened just before it.
 */
export class ScrapeGate {
  readonly #collect: () => Promise<string>;
  readonly #now: () => number;
  /** The collection that has not started yet, which new scrapes join. */
  #pending: Promise<string> | undefined;
  /** The collection running now. */
  #running: Promise<string> | undefined;
  #restUntil = 0;

  constructor(collect: () => Promise<string>, now: () => number = () => performance.now()) {
    this.#collect = collect;
    this.#now = now;
  }

  /** The metrics text, collected after this call. */
  text(): Promise<string> {
    this.#pending ??= this.#collectNext();
    return this.#pending;
  }

  async #collectNext(): Promise<string> {
    await this.#running?.catch(() => {});
    const rest = this.#restUntil - this.#now();
    if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    this.#pending = undefined;
    const start = this.#now();
    const run = Promise.resolve().then(this.#collect);
    this.#running = run;
    try {
      return await run;
    } finally {
      const end = this.#now();
      this.#restUntil = end + (end - start);
      if (this.#running === run) this.#running = undefined;
    }
  }
}
