import { defineConfig } from 'vitest/config';

/**
 * Two projects: unit tests beside the code run in parallel; the cross-process tests in
 * test/ start real node processes and run one file at a time, so they do not starve each
 * other of the machine's two cores (timeouts there would be the machine's, not Joule's).
 */
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      // test/sim is cross-part but runs in one process (virtual time): it belongs with the fast tests.
      { extends: true, test: { name: 'unit', include: ['*/**/*.test.ts'], exclude: ['node_modules/**', 'test/!(sim)/**', 'test/*.test.ts'] } },
      { extends: true, test: { name: 'processes', include: ['test/**/*.test.ts'], exclude: ['test/sim/**'], fileParallelism: false } },
    ],
  },
});
