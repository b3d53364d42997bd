import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from './latency-histogram.ts';

/** The percentile of a sorted array, as the simulator took it before it kept a histogram. */
function sortedPercentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describe('LatencyHistogram', () => {
  it('gives the percentiles a sorted array of the latencies gives, in fixed memory', () => {
    const h = new LatencyHistogram(10_000);
    expect(h.percentile(50)).toBeNull();
    const values: number[] = [];
    // A spread with repeats and both ends of the range.
    for (let i = 0; i < 997; i++) values.push((i * 7919) % 10_001);
    values.push(0, 0, 10_000);
    for (const v of values) h.add(v);
    expect(h.count).toBe(values.length);
    for (const p of [0, 1, 50, 90, 99, 99.9, 100]) expect(h.percentile(p), `p${p}`).toBe(sortedPercentile(values, p));
  });

  it('counts a latency past its range at the range end, and starts over when cleared', () => {
    const h = new LatencyHistogram(1000);
    h.add(5);
    h.add(250_000);
    expect(h.percentile(99)).toBe(1000);
    expect(h.percentile(0)).toBe(5);
    h.clear();
    expect(h.count).toBe(0);
    expect(h.percentile(99)).toBeNull();
  });
});
