import { defineConfig } from 'vitest/config';

/**
 * Cross-process tests: they start real node processes (test/faults, test/ceremony: in network namespaces),
 * so they run one file at a time and do not starve each other of the machine's two cores
 * (timeouts there would be the machine's, not Joule's). One list for both projects, so a
 * file is always in exactly one; a new folder of process tests must be added here.
 */
const PROCESS_TESTS = ['test/*.test.ts', 'test/faults/**/*.test.ts', 'test/ceremony/**/*.test.ts'];
/** The virtual-time cluster simulation: pure CPU, minutes of it (500 seeds for each of 1, 4 and 7 validators). */
const SIM_TESTS = ['test/sim/**/*.test.ts'];

/**
 * Three projects: `unit` runs the unit tests beside the code and the in-process suites
 * under test/ (test/architecture, the import rules; test/protocol, test/fuzz) in parallel;
 * `sim` the simulation; `processes` runs PROCESS_TESTS serially. `npm test` runs `unit`,
 * then `processes` with `sim` beside it at the lowest CPU priority (test/run-slow.ts): the
 * process tests leave a core idle much of the time (their nodes wait for blocks and
 * timeouts), which the simulation takes without slowing them.
 */
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      // Vitest's default in run mode is cores - 1 workers: one on a 2-core machine, which ran
      // the unit files one after another (the simulation alone takes minutes).
      { extends: true, test: { name: 'unit', include: ['**/*.test.ts'], exclude: ['node_modules/**', ...PROCESS_TESTS, ...SIM_TESTS], maxWorkers: 2 } },
      { extends: true, test: { name: 'sim', include: SIM_TESTS, maxWorkers: 2 } },
      { extends: true, test: { name: 'processes', include: PROCESS_TESTS, fileParallelism: false } },
    ],
  },
});
