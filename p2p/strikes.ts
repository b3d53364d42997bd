/**
 * Counts a peer's offences (direct messages its own subscriber rejected) in a sliding
 * window, so one odd message is forgiven but a peer that keeps sending bad ones is not.
 * Clock injectable so tests need no sleeps.
 */
const MAX_TRACKED = 4096;

export interface StrikeLimit {
  /** Offences within windowMs that make a peer out. */
  readonly max: number;
  readonly windowMs: number;
}

export class Strikes {
  /** Offence times per peer, oldest first, at most `max` of them. */
  private readonly times = new Map<string, number[]>();
  private readonly limit: StrikeLimit;
  private readonly now: () => number;

  constructor(limit: StrikeLimit, now: () => number = Date.now) {
    this.limit = limit;
    this.now = now;
  }

  /** Records one offence; true when it is the max-th within the window (the record then starts over). */
  add(peer: string): boolean {
    const t = this.now();
    const recent = (this.times.get(peer) ?? []).filter((at) => t - at < this.limit.windowMs);
    recent.push(t);
    if (recent.length >= this.limit.max) {
      this.times.delete(peer);
      return true;
    }
    if (!this.times.has(peer) && this.times.size >= MAX_TRACKED) this.evict(t);
    this.times.set(peer, recent);
    return false;
  }

  private evict(t: number): void {
    for (const [k, v] of this.times) if (t - v[v.length - 1]! >= this.limit.windowMs) this.times.delete(k);
    // Still full (a flood of distinct keys): drop the oldest entry rather than grow.
    if (this.times.size >= MAX_TRACKED) this.times.delete(this.times.keys().next().value!);
  }
}
