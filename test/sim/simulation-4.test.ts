import { expect, it } from 'vitest';
import { RECOVERY_BOUND_MS, runSeeds } from './simulation.ts';

// Replay a failing seed: SIM_SEED=<seed> SIM_SEEDS=1 npx vitest run test/sim/simulation-4.test.ts
// As many seeds as you like: npm run sim -- --seeds 10000 --n 4
const SEEDS = Number(process.env.SIM_SEEDS ?? 500);
const FIRST = Number(process.env.SIM_SEED ?? 1);

it('n=4: safety, no double signing, liveness, and recovery within ' + RECOVERY_BOUND_MS + ' ms of the heal, under an adversarial network', () => {
  const t0 = performance.now();
  const { totals, strategies } = runSeeds(4, FIRST, SEEDS); // throws "seed S (n=4, strategy) at t=…: …" on any violation
  console.log(`n=4: ${SEEDS} seeds from ${FIRST} in ${((performance.now() - t0) / 1000).toFixed(1)} s`, totals, strategies);
  expect(totals.commits).toBeGreaterThan(SEEDS * 3);
  expect(totals.recoveryRuns).toBeGreaterThan(0);
  expect(totals.setChanges + totals.transitions).toBeGreaterThan(0);
  // The adversary did what it is for: equivocation was caught and sync liars were banned.
  expect(totals.evidence).toBeGreaterThan(0);
  expect(totals.bans).toBeGreaterThan(0);
}, 600_000);
