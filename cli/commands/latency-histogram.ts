/**
 * Whole-millisecond latencies counted per millisecond up to `maxMs` (larger ones count as
 * `maxMs`): the simulator's send-to-final percentiles over a run of any length in fixed
 * memory, and the same figures a sorted array of the latencies would give.
 */
export class LatencyHistogram {
  private readonly counts: Uint32Array;
  private n = 0;

  constructor(maxMs: number) {
    this.counts = new Uint32Array(maxMs + 1);
  }

  get count(): number {
    return this.n;
  }

  add(ms: number): void {
    const i = Math.min(this.counts.length - 1, Math.max(0, Math.round(ms)));
    this.counts[i]!++;
    this.n++;
  }

  /** The latency at rank floor(p/100 * count) (the last at p = 100), or null when empty. */
  percentile(p: number): number | null {
    if (this.n === 0) return null;
    const rank = Math.min(this.n - 1, Math.floor((p / 100) * this.n));
    let seen = 0;
    for (let ms = 0; ms < this.counts.length; ms++) {
      seen += this.counts[ms]!;
      if (seen > rank) return ms;
    }
    return this.counts.length - 1;
  }

  clear(): void {
    this.counts.fill(0);
    this.n = 0;
  }
}
