import { run } from '../program.ts';
import type { CliResult } from './run-cli.ts';

/**
 * Test helper: runs `joule` inside the test process, through the same command tree and
 * error reporting as the executable (`run` of program.ts), capturing what it writes to
 * stdout and stderr. A spawned CLI costs about a second of CPU to load (half that from the
 * compile cache, cli/main.ts); this costs nothing, so a test can try every bad input of a
 * command. One call at a time: it swaps the process' output streams, environment and exit
 * code while it runs.
 */
let busy = false;

export async function runCliInProcess(args: readonly string[], opts: { env?: Record<string, string | undefined> } = {}): Promise<CliResult> {
  if (busy) throw new Error('runCliInProcess: one call at a time');
  busy = true;
  const saved = { out: process.stdout.write, err: process.stderr.write, exitCode: process.exitCode, env: { ...process.env } };
  let stdout = '';
  let stderr = '';
  const env: Record<string, string | undefined> = { JOULE_PASSPHRASE: undefined, JOULE_RPC: undefined, ...opts.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    const code = await run(['node', 'joule', ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.exitCode = saved.exitCode;
    for (const k of Object.keys(process.env)) if (!(k in saved.env)) delete process.env[k];
    Object.assign(process.env, saved.env);
    busy = false;
  }
}
