/**
 * The short budget of fuzz targets that `npm test` runs (one vitest file per group, so that
 * the groups run in parallel): each target's quickRuns inputs from a fixed seed, no finding,
 * and every outcome it claims to reach reached.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import { DEFAULT_LIMIT_MS, runInputs } from './harness.ts';
import { loadTarget } from './targets/index.ts';

/** Fixed, so that `npm test` runs the same inputs every time; FUZZ_SEED=n tries others. */
export const SEED = process.env.FUZZ_SEED === undefined ? 20_260_101 : Number(process.env.FUZZ_SEED);

export function shortBudget(names: readonly string[]): void {
  it.each(names)('%s: no crash, no hang, and its inputs reach past the first checks', async (name) => {
    const target = await loadTarget(name);
    if (target === undefined) throw new Error(`no fuzz target ${name}`);
    const dir = await mkdtemp(join(tmpdir(), `joule-fuzz-${name}-`));
    const instance = await target.setup({ tmpDir: dir });
    try {
      const r = await runInputs(instance, { seed: SEED, runs: target.quickRuns, limitMs: target.limitMs ?? DEFAULT_LIMIT_MS, codes: target.codes });
      const findings = r.findings.map(
        (f) =>
          `${f.kind}: ${f.message}\n  regenerate: npm run fuzz -- --target ${name} --seed ${f.seed} --index ${f.index}\n  input: ${toHex(f.input).slice(0, 200)}\n${f.stack ?? ''}`,
      );
      expect(findings).toEqual([]);
      expect(r.runs).toBe(target.quickRuns);
      for (const label of target.reaches) expect(r.outcomes, `outcome "${label}" never happened`).toHaveProperty([label]);
    } finally {
      await instance.close?.();
      await rm(dir, { recursive: true, force: true });
    }
  });
}
