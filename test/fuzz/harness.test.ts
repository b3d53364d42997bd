/**
 * The harness's own check: `npm run fuzz` catches, reports and saves a crash and a hang,
 * and replays a saved input. (The targets' short budgets are decoders.test.ts,
 * node-inputs.test.ts and files.test.ts; test/fuzz/README.md.)
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(label: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), `joule-fuzz-${label}-`));
  dirs.push(d);
  return d;
}

describe('npm run fuzz', () => {
  it('reports a crash and a hang with their reproducers, saves them, exits 1; --replay runs a saved input again', async () => {
    const crashDir = await tempDir('crashes');
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, ['test/fuzz/run.ts', ...args], { cwd: join(import.meta.dirname, '..', '..') }).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
      );
    const fuzz = await run(['--target', 'selftest-crash,selftest-hang', '--runs', '1000', '--seed', '1', '--crash-dir', crashDir]);
    expect(fuzz.code).toBe(1);
    expect(fuzz.out).toMatch(/CRASH in target selftest-crash: TypeError/);
    expect(fuzz.out).toMatch(/HANG in target selftest-hang: input still running after \d+ ms/);
    expect(fuzz.out).toMatch(/regenerate: npm run fuzz -- --target selftest-crash --seed 1 --index \d+/);
    expect(fuzz.out).toMatch(/selftest-crash +1000 +\d+ +[1-9]/); // the summary line counts the crash
    const saved = (await readdir(crashDir)).filter((f) => f.endsWith('.bin')).sort();
    expect(saved).toEqual([expect.stringMatching(/^selftest-crash-crash-/), expect.stringMatching(/^selftest-hang-hang-/)]);
    expect([...(await readFile(join(crashDir, saved[0]!)))]).toEqual([0x2a]);
    const replay = await run(['--target', 'selftest-crash', '--replay', join(crashDir, saved[0]!)]);
    expect(replay.code).toBe(1);
    expect(replay.out).toMatch(/crash in [\d.]+ ms[\s\S]*TypeError: Cannot read properties of undefined/);
  });
});
