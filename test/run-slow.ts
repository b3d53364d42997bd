/**
 * `npm test`'s last step: the process tests (vitest project `processes`, one file at a
 * time, output as it comes) and, beside them at the lowest CPU priority (nice 19), the
 * simulation (project `sim`, output buffered and printed when the process tests are done,
 * so the two do not interleave). The process tests' nodes spend much of their time waiting
 * for blocks and timeouts; the simulation takes the idle core without slowing them (nice 19
 * yields to them). Exit code 1 when either fails.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));

function run(args: string[], opts: { nice: boolean; buffer: boolean }): Promise<{ code: number; output: string }> {
  const [cmd, argv] = opts.nice ? ['nice', ['-n', '19', process.execPath, vitest, ...args]] : [process.execPath, [vitest, ...args]];
  const child = spawn(cmd, argv as string[], { stdio: opts.buffer ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code: code ?? (signal === null ? 1 : 128), output })));
}

const sim = run(['run', '--project', 'sim'], { nice: true, buffer: true });
const processes = await run(['run', '--project', 'processes'], { nice: false, buffer: false });
const s = await sim;
process.stdout.write(`\n--- the simulation (project sim), run beside the process tests at nice 19 ---\n${s.output}`);
process.exit(processes.code !== 0 || s.code !== 0 ? 1 : 0);
