import { globSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
/** What the unit projects leave to the others (and node_modules, never searched). */
const NOT_UNIT = ['node_modules', 'node_modules/**', ...PROCESS_TESTS, ...SIM_TESTS];
/**
 * Unit files that need a process of their own. The unit project shares one module registry
 * and one heap among the files a worker runs (isolate: false): each file importing libp2p,
 * grpc-js and the rest again cost 85 of its 240 s. A file that replaces a module
 * (`vi.mock`) needs a registry of its own (in a shared one it misses a module already
 * loaded, or leaks into the next file); a file that measures the heap, or what the garbage
 * collector keeps (WeakRef), a heap of its own (state/world-state.test.ts once found its
 * committed nodes still alive in a shared one). These run in `unit-isolated`, one process
 * a file. Found by reading the files, so none is forgotten.
 */
const ROOT = fileURLToPath(new URL('.', import.meta.url));
const NEEDS_ISOLATION = /\bvi\.(do)?[mM]ock\(|\bWeakRef\b|expose-gc|memoryUsage\(|getHeapStatistics\(/;
const ISOLATED_TESTS = globSync('**/*.test.ts', { cwd: ROOT, exclude: NOT_UNIT }).filter((f) => NEEDS_ISOLATION.test(readFileSync(join(ROOT, f), 'utf8')));

/**
 * Four projects: `unit` runs the unit tests beside the code and the in-process suites
 * under test/ (test/architecture, the import rules; test/protocol, test/fuzz) in parallel,
 * and `unit-isolated` beside it the unit files that need a process of their own;
 * `sim` the simulation; `processes` runs PROCESS_TESTS serially. `npm test` runs `unit` and
 * `unit-isolated`, then `processes` with `sim` beside it at the lowest CPU priority (test/run-slow.ts): the
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
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: [...NOT_UNIT, ...ISOLATED_TESTS],
          maxWorkers: 2,
          isolate: false,
        },
      },
      {
        extends: true,
        test: { name: 'unit-isolated', include: ISOLATED_TESTS.length > 0 ? ISOLATED_TESTS : ['(no unit file needs isolation)'], maxWorkers: 2 },
      },
      { extends: true, test: { name: 'sim', include: SIM_TESTS, maxWorkers: 2 } },
      { extends: true, test: { name: 'processes', include: PROCESS_TESTS, fileParallelism: false } },
    ],
  },
});
