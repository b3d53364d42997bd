import { defineConfig } from 'vitest/config';

/**
 * Cross-process tests: they start real node processes (test/faults, test/ceremony: in network namespaces),
 * so they run one file at a time and do not starve each other of the machine's two cores
 * (timeouts there would be the machine's, not Joule's). One list for both projects, so a
 * file is always in exactly one; a new folder of process tests must be added here.
 */
const PROCESS_TESTS = ['test/*.test.ts', 'test/faults/**/*.test.ts', 'test/ceremony/**/*.test.ts'];

/**
 * Two projects: `unit` runs every other test in parallel: the unit tests beside the code
 * and the in-process suites under test/ (test/sim, the virtual-time cluster simulation;
 * test/architecture, the import rules). `processes` runs PROCESS_TESTS serially.
 */
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      // Vitest's default in run mode is cores - 1 workers: one on a 2-core machine, which ran
      // the unit files one after another (the simulation alone takes minutes).
      { extends: true, test: { name: 'unit', include: ['**/*.test.ts'], exclude: ['node_modules/**', ...PROCESS_TESTS], maxWorkers: 2 } },
      { extends: true, test: { name: 'processes', include: PROCESS_TESTS, fileParallelism: false } },
    ],
  },
});
