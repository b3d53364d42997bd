import { expect, it } from 'vitest';
import { RECOVERY_BOUND_MS, runSeeds, type SimulationOptions } from './simulation.ts';

/**
 * The simulation as one vitest test per cluster size (one file per size, so the sizes run
 * in parallel). SIM_SEEDS and SIM_SEED pick the seeds: replay one with
 * `SIM_SEED=<seed> SIM_SEEDS=1 npx vitest run test/sim/simulation-<n>.test.ts`;
 * many with `npm run sim -- --seeds 10000 --n <n>` (with `--emergencies` for `opts.emergencies`).
 */
export function simulationTest(n: number, opts: SimulationOptions = {}): void {
  const seeds = Number(process.env.SIM_SEEDS ?? 500);
  const first = Number(process.env.SIM_SEED ?? 1);
  const emergency = opts.emergencies === true ? ', and an emergency validator-set transition in each run' : '';
  it(`n=${n}: safety, no double signing, liveness, and recovery within ${RECOVERY_BOUND_MS} ms of the heal, under an adversarial network${emergency}`, () => {
    const t0 = performance.now();
    const { totals, strategies } = runSeeds(n, first, seeds, opts); // throws "seed S (n=…, strategy) at t=…: …" on any violation
    console.log(`n=${n}: ${seeds} seeds from ${first} in ${((performance.now() - t0) / 1000).toFixed(1)} s`, totals, strategies);
    expect(totals.commits).toBeGreaterThan(seeds * 3);
    if (opts.emergencies === true) expect(totals.emergencies).toBe(seeds);
    if (seeds >= 100) {
      // Over enough seeds every kind of run happens: all-honest runs (the recovery bound is
      // asserted in those), validator-set changes, and, with Byzantine validators, caught
      // equivocation and banned sync liars.
      expect(totals.recoveryRuns).toBeGreaterThan(0);
      expect(totals.setChanges + totals.transitions).toBeGreaterThan(0);
      if (n >= 4) {
        expect(totals.evidence).toBeGreaterThan(0);
        expect(totals.bans).toBeGreaterThan(0);
      }
    }
  }, 900_000);
}
