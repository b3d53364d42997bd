import { expect, it } from 'vitest';
import { runSeeds } from './sim-harness.ts';

// 7 validators, one Byzantine. Replay a failing seed: SIM_SEED=<seed> SIM_SEEDS=1 npx vitest run consensus/simulation-7.test.ts
const SEEDS = Number(process.env.SIM_SEEDS ?? 500);
const FIRST = Number(process.env.SIM_SEED ?? 1);

it('n=7: no two honest validators commit different blocks; all commit new heights after the heal', () => {
  const t0 = performance.now();
  const totals = runSeeds(7, FIRST, SEEDS); // throws "seed S (n=7) at t=...: ..." on any violation
  console.log(`n=7: ${SEEDS} seeds from ${FIRST} in ${((performance.now() - t0) / 1000).toFixed(1)} s`, totals);
  expect(totals.commits).toBeGreaterThan(SEEDS * 3);
  expect(totals.evidence).toBeGreaterThan(0);
  // Heights that start after the heal commit within a bounded number of rounds.
  expect(totals.maxRoundAfterHeal).toBeLessThanOrEqual(3);
}, 300_000);
