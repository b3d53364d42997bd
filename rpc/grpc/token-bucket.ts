/**
 * A token bucket: `ratePerSecond` tokens a second up to `burst`; `take(n)` says whether n
 * are there (and takes them). Time comes from the caller, so tests drive it.
 */
export class TokenBucket {
  private readonly rate: number;
  private readonly burst: number;
  private tokens: number;
  private at: number;

  constructor(ratePerSecond: number, burst: number, nowMs: number) {
    this.rate = ratePerSecond;
    this.burst = burst;
    this.tokens = burst;
    this.at = nowMs;
  }

  /** The tokens there are at `nowMs` (none taken). */
  available(nowMs: number): number {
    if (nowMs > this.at) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.at) * this.rate) / 1000);
      this.at = nowMs;
    }
    return this.tokens;
  }

  take(n: number, nowMs: number): boolean {
    if (this.available(nowMs) < n) return false;
    this.tokens -= n;
    return true;
  }
}
