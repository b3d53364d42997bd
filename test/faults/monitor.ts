/**
 * Samples every node's height about every 100 ms, each node on its own loop (a paused or
 * killed node only delays its own samples). The samples give the checks that need a time
 * line: no height ever went down (across restarts too), nothing was finalised during a
 * window, and how long after a heal every node had a new block.
 */
export interface HeightSample {
  /** When the answer arrived: the block was final by then (so recovery times are upper bounds). */
  readonly t: number;
  readonly height: number;
  /** Validators it was connected to. */
  readonly peers: number;
}

export type HeightProbe = (node: number) => Promise<{ height: number; peers: number }>;

export class HeightMonitor {
  readonly samples: HeightSample[][];
  private readonly probe: HeightProbe;
  private readonly everyMs: number;
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(nodes: number, probe: HeightProbe, everyMs = 100) {
    this.samples = Array.from({ length: nodes }, () => []);
    this.probe = probe;
    this.everyMs = everyMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = this.samples.map((_, i) => this.loop(i));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(i: number): Promise<void> {
    while (this.running) {
      const began = Date.now();
      try {
        const { height, peers } = await this.probe(i);
        this.samples[i]!.push({ t: Date.now(), height, peers });
      } catch {
        // down, paused or unreachable: no sample
      }
      await new Promise((r) => setTimeout(r, Math.max(0, this.everyMs - (Date.now() - began))));
    }
  }

  /** The highest height any node was seen at, up to time t (default: now). */
  maxHeight(t = Infinity): number {
    let max = 0;
    for (const s of this.samples) for (const x of s) if (x.t <= t && x.height > max) max = x.height;
    return max;
  }

  /** The highest height node i was seen at within [from, to]. */
  maxHeightOf(i: number, from: number, to: number): number | undefined {
    let max: number | undefined;
    for (const x of this.samples[i]!) if (x.t >= from && x.t <= to && (max === undefined || x.height > max)) max = x.height;
    return max;
  }

  /** Every time since `since` a node was seen lower than it had been seen before. */
  regressions(names: readonly string[], since = 0): string[] {
    return this.samples.flatMap((s, i) =>
      findRegressions(s)
        .filter((r) => r.t >= since)
        .map((r) => `${names[i]} went from height ${r.from} down to ${r.to} at ${new Date(r.t).toISOString()}`),
    );
  }

  /**
   * When every node in `nodes` had first been seen above `height` at or after `since`, or
   * undefined if one has not been yet.
   */
  allAbove(nodes: readonly number[], height: number, since: number): number | undefined {
    let latest = since;
    for (const i of nodes) {
      const first = this.samples[i]!.find((x) => x.t >= since && x.height > height);
      if (first === undefined) return undefined;
      latest = Math.max(latest, first.t);
    }
    return latest;
  }

  /** When every node in `nodes` had first been seen with `peers` peers at or after `since`. */
  allConnected(nodes: readonly number[], peers: number, since: number): number | undefined {
    let latest = since;
    for (const i of nodes) {
      const first = this.samples[i]!.find((x) => x.t >= since && x.peers >= peers);
      if (first === undefined) return undefined;
      latest = Math.max(latest, first.t);
    }
    return latest;
  }

  /** The fewest peers node i had within [from, to]. */
  minPeersOf(i: number, from: number, to: number): number | undefined {
    let min: number | undefined;
    for (const x of this.samples[i]!) if (x.t >= from && x.t <= to && (min === undefined || x.peers < min)) min = x.peers;
    return min;
  }

  /** Waits (polling the samples) until allAbove is defined; returns its time, or throws after timeoutMs. */
  async waitAllAbove(nodes: readonly number[], height: number, since: number, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = this.allAbove(nodes, height, since);
      if (t !== undefined) return t;
      if (Date.now() > deadline) {
        const seen = nodes.map((i) => this.samples[i]!.at(-1)?.height ?? 'none').join(', ');
        throw new Error(`nodes ${nodes.join(', ')} did not all pass height ${height} within ${timeoutMs} ms (last seen: ${seen})`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export function findRegressions(samples: readonly HeightSample[]): { from: number; to: number; t: number }[] {
  const out: { from: number; to: number; t: number }[] = [];
  let max = -1;
  for (const s of samples) {
    if (s.height < max) out.push({ from: max, to: s.height, t: s.t });
    else max = s.height;
  }
  return out;
}
