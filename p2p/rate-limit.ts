/**
 * Per-peer token buckets for inbound requests and gossip. A bucket refills at `ratePerSec`
 * up to `burst`; a request costs one token. Clock injectable so tests need no sleeps.
 */
export interface RateLimit {
  readonly ratePerSec: number;
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Idle buckets are dropped after this long so the map cannot grow with departed peers. */
const IDLE_EVICT_MS = 60_000;
const MAX_TRACKED = 4096;

export class PeerRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly limit: RateLimit;
  private readonly now: () => number;

  constructor(limit: RateLimit, now: () => number = Date.now) {
    this.limit = limit;
    this.now = now;
  }

  /** Takes one token for `key`; false when the peer is over its rate. */
  tryTake(key: string): boolean {
    const t = this.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= MAX_TRACKED) this.evictIdle(t);
      b = { tokens: this.limit.burst, at: t };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.limit.burst, b.tokens + ((t - b.at) / 1000) * this.limit.ratePerSec);
      b.at = t;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }

  private evictIdle(t: number): void {
    for (const [k, b] of this.buckets) if (t - b.at > IDLE_EVICT_MS) this.buckets.delete(k);
    // Still full (a flood of distinct keys): drop the oldest entry rather than grow.
    if (this.buckets.size >= MAX_TRACKED) this.buckets.delete(this.buckets.keys().next().value!);
  }
}
