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
      // The process tests are the files directly in test/. Its subfolders (test/sim, the
      // virtual-time cluster simulation; test/architecture, the import rules) run in one
      // process and belong with the fast tests. (exclude takes no negated patterns.)
      { extends: true, test: { name: 'unit', include: ['**/*.test.ts'], exclude: ['node_modules/**', 'test/*.test.ts'] } },
      { extends: true, test: { name: 'processes', include: ['test/*.test.ts'], fileParallelism: false } },
    ],
  },
});
