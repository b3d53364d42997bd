import { describe, expect, it } from 'vitest';
import { bucketsByStage, histogramQuantile } from './histogram.ts';

const page = (counts: Record<string, readonly number[]>) =>
  Object.entries(counts)
    .flatMap(([stage, [a, b, c, inf]]) => [
      `# HELP x_seconds age`,
      `x_seconds_bucket{stage="${stage}",le="1",node="v"} ${a}`,
      `x_seconds_bucket{stage="${stage}",le="2",node="v"} ${b}`,
      `x_seconds_bucket{stage="${stage}",le="4",node="v"} ${c}`,
      `x_seconds_bucket{stage="${stage}",le="+Inf",node="v"} ${inf}`,
      `x_seconds_sum{stage="${stage}",node="v"} 0`,
      `x_seconds_count{stage="${stage}",node="v"} ${inf}`,
    ])
    .join('\n');

describe('histogram quantiles over a run', () => {
  it('sums the buckets of every page, by stage', () => {
    const b = bucketsByStage([page({ final: [1, 2, 3, 4] }), page({ final: [10, 20, 30, 40], batched: [5, 5, 5, 5] })], 'x_seconds');
    expect([...b.get('final')!]).toEqual([
      [1, 11],
      [2, 22],
      [4, 33],
      [Infinity, 44],
    ]);
    expect(b.get('batched')!.get(Infinity)).toBe(5);
    expect(bucketsByStage([page({ final: [1, 2, 3, 4] })], 'y_seconds').size).toBe(0);
  });

  it('interpolates within the bucket the quantile falls in, over what the run counted', () => {
    const before = bucketsByStage([page({ s: [100, 100, 100, 100] })], 'x_seconds').get('s');
    // The run: 50 in (0, 1], 40 in (1, 2], 10 in (2, 4].
    const after = bucketsByStage([page({ s: [150, 190, 200, 200] })], 'x_seconds').get('s');
    expect(histogramQuantile(before, after, 0.5)).toBeCloseTo(1, 9);
    expect(histogramQuantile(before, after, 0.25)).toBeCloseTo(0.5, 9);
    expect(histogramQuantile(before, after, 0.7)).toBeCloseTo(1.5, 9);
    expect(histogramQuantile(before, after, 0.95)).toBeCloseTo(3, 9);
  });

  it('says past the last bound, or nothing counted, rather than inventing a value', () => {
    const after = bucketsByStage([page({ s: [1, 2, 3, 10] })], 'x_seconds').get('s');
    expect(histogramQuantile(undefined, after, 0.99)).toBe(Infinity);
    expect(histogramQuantile(after, after, 0.5)).toBeNull();
    expect(histogramQuantile(undefined, undefined, 0.5)).toBeNull();
  });
});
