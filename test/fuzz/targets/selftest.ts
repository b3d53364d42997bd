import fc from 'fast-check';
import type { FuzzTarget } from '../harness.ts';

/**
 * Targets that fail on purpose, so that the harness's own tests (fuzz.test.ts) can check
 * that a crash, a hang and a memory blow-up are caught, reported and saved. Not in TARGETS:
 * `npm run fuzz` runs them only when named.
 */
const oneByte = fc.integer({ min: 0, max: 255 }).map((b) => new Uint8Array([b]));

export const SELFTEST_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'selftest-crash',
    description: 'throws a TypeError on input 0x2a',
    quickRuns: 100,
    reaches: [],
    setup: () => ({
      inputs: oneByte,
      run(input) {
        if (input[0] === 0x2a) (undefined as unknown as { x: number }).x;
        return 'ok';
      },
    }),
  },
  {
    name: 'selftest-hang',
    description: 'loops forever on input 0x2a',
    quickRuns: 100,
    reaches: [],
    limitMs: 200,
    setup: () => ({
      inputs: oneByte,
      run(input) {
        while (input[0] === 0x2a) {
          // stuck
        }
      },
    }),
  },
  {
    name: 'selftest-memory',
    description: 'keeps every input, and a megabyte with it',
    quickRuns: 100,
    reaches: [],
    setup: () => {
      const kept: Uint8Array[] = [];
      return {
        inputs: oneByte,
        run(input) {
          kept.push(new Uint8Array(1 << 20).fill(input[0]!));
        },
      };
    },
  },
];
