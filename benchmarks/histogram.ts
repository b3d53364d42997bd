/**
 * Quantiles of a Prometheus histogram over a run, read off its buckets: the benchmarks
 * scrape each node's metrics page before and after, and the difference is what the run
 * counted. Pure (the pages are text).
 */

/** Bucket counts (cumulative, by upper bound; +Inf as Infinity) per value of the `stage` label. */
export type StageBuckets = Map<string, Map<number, number>>;

/** Histogram `name`'s bucket counts by its `stage` label ('' without one), summed over `pages`. */
export function bucketsByStage(pages: readonly string[], name: string): StageBuckets {
  const out: StageBuckets = new Map();
  const line = new RegExp(`^${name}_bucket\\{(.*)\\} ([0-9.e+-]+)$`);
  for (const page of pages) {
    for (const l of page.split('\n')) {
      const m = line.exec(l);
      const le = m === null ? undefined : /le="([^"]+)"/.exec(m[1]!)?.[1];
      if (m === null || le === undefined) continue;
      const stage = /stage="([^"]+)"/.exec(m[1]!)?.[1] ?? '';
      const bound = le === '+Inf' ? Infinity : Number(le);
      const series = out.get(stage) ?? new Map<number, number>();
      series.set(bound, (series.get(bound) ?? 0) + Number(m[2]));
      out.set(stage, series);
    }
  }
  return out;
}

/**
 * The q-quantile of what a histogram counted between two scrapes, interpolated linearly
 * within the bucket it falls in (as Prometheus's histogram_quantile): Infinity when it
 * falls past the last finite bound, null when nothing was counted.
 */
export function histogramQuantile(before: ReadonlyMap<number, number> | undefined, after: ReadonlyMap<number, number> | undefined, q: number): number | null {
  if (after === undefined) return null;
  const counted = (b: number) => (after.get(b) ?? 0) - (before?.get(b) ?? 0);
  const total = counted(Infinity);
  if (total <= 0) return null;
  const target = q * total;
  let lower = 0;
  let below = 0;
  for (const b of [...after.keys()].sort((x, y) => x - y)) {
    const cum = counted(b);
    if (cum >= target) return b === Infinity ? Infinity : lower + ((b - lower) * (target - below)) / (cum - below);
    lower = b;
    below = cum;
  }
  return null;
}
