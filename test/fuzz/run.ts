/**
 * `npm run fuzz -- [--target a,b] [--runs N | --seconds S] [--seed S]`: runs each target in
 * its own process (child.ts) for as long as asked, one after the other, and prints per
 * target: inputs run, crashes, hangs, peak memory. Exit 1 on any finding; each finding is
 * printed with its reproducer and saved under test/fuzz/crashes/ (ignored by git).
 *
 *   --list                         the targets
 *   --target T --replay FILE       runs one saved input, with the stack of a crash
 *   --target T --seed S --index I  regenerates input I of run S and runs it
 *   --limit-ms MS                  per-input limit (default: the target's)
 *   --max-rss-mb MB                per-process memory limit (default 3072)
 *   --crash-dir DIR                where reproducers go (default test/fuzz/crashes)
 */
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { toHex } from '../../core/bytes.ts';
import { sha256 } from '../../core/hash.ts';
import type { ChildOptions, ChildReport } from './child.ts';
import { DEFAULT_LIMIT_MS, inputAt, runOne, type Finding, type FuzzTarget } from './harness.ts';
import { loadTarget, TARGET_NAMES } from './targets/index.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));

const { values: args } = parseArgs({
  options: {
    target: { type: 'string' },
    runs: { type: 'string' },
    seconds: { type: 'string' },
    seed: { type: 'string' },
    index: { type: 'string' },
    replay: { type: 'string' },
    list: { type: 'boolean' },
    'limit-ms': { type: 'string' },
    'max-rss-mb': { type: 'string' },
    'crash-dir': { type: 'string' },
  },
});

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function number(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) fail(`--${name} must be a non-negative number, got ${v}`);
  return n;
}

async function selected(): Promise<FuzzTarget[]> {
  const names = args.target === undefined ? TARGET_NAMES : args.target.split(',').map((n) => n.trim());
  const out: FuzzTarget[] = [];
  for (const name of names) out.push((await loadTarget(name)) ?? fail(`no target ${name} (npm run fuzz -- --list)`));
  return out;
}

const crashDir = args['crash-dir'] ?? join(HERE, 'crashes');
const show = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') ? path : rel;
};

function hexPreview(b: Uint8Array): string {
  return b.length <= 256 ? toHex(b) : `${toHex(b.subarray(0, 256))}… (${b.length} bytes)`;
}

const printed = new Map<string, number>();

/** Saves a finding's input and what is known about it; prints the reproducer (in full the first time a kind of failure is seen). */
function report(target: string, f: Finding): void {
  mkdirSync(crashDir, { recursive: true });
  const base = join(crashDir, `${target}-${f.kind}-${toHex(sha256(f.input)).slice(0, 12)}`);
  writeFileSync(`${base}.bin`, f.input);
  const replay = `npm run fuzz -- --target ${target} --replay ${show(`${base}.bin`)}`;
  const regenerate = f.index >= 0 ? `npm run fuzz -- --target ${target} --seed ${f.seed} --index ${f.index}` : undefined;
  const text = [
    `${f.kind.toUpperCase()} in target ${target}: ${f.message}`,
    `seed ${f.seed}, input ${f.index}${f.ms === undefined ? '' : `, ${f.ms.toFixed(0)} ms`}`,
    `replay: ${replay}`,
    ...(regenerate === undefined ? [] : [`regenerate: ${regenerate}`]),
    `input (hex): ${hexPreview(f.input)}`,
    ...(f.stack === undefined ? [] : ['', f.stack]),
  ].join('\n');
  writeFileSync(`${base}.txt`, `${text}\n`);
  const signature = `${target} ${f.kind} ${f.message.split('\n')[0]} ${f.stack?.split('\n')[1]?.trim() ?? ''}`;
  const seen = printed.get(signature) ?? 0;
  printed.set(signature, seen + 1);
  if (seen === 0) process.stdout.write(`\n${text.split('\n').slice(0, 12).join('\n')}\nsaved: ${show(`${base}.bin`)} (and .txt)\n\n`);
  else process.stdout.write(`${f.kind} again in ${target} (input ${f.index}, same failure as above): ${show(`${base}.bin`)}\n`);
}

/** Runs one input in this process and says what happened (replay and regenerate). */
async function runSingle(target: FuzzTarget, input: Uint8Array, label: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), `joule-fuzz-${target.name}-`));
  try {
    const instance = await target.setup({ tmpDir: dir });
    const r = await runOne(instance, input, target.codes);
    await instance.close?.();
    const limit = number('limit-ms', args['limit-ms']) ?? target.limitMs ?? DEFAULT_LIMIT_MS;
    process.stdout.write(`${target.name} ${label} (${input.length} bytes): ${r.outcome} in ${r.ms.toFixed(1)} ms\ninput (hex): ${hexPreview(input)}\n`);
    if (r.error !== undefined && (r.outcome === 'crash' || r.outcome === 'property')) process.stdout.write(`${(r.error as Error).stack ?? String(r.error)}\n`);
    else if (r.error !== undefined) process.stdout.write(`${(r.error as Error).message}\n`);
    return r.outcome === 'crash' || r.outcome === 'property' || r.ms > limit ? 1 : 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type Result = Extract<ChildReport, { type: 'result' }> & { findings: Finding[] };

function runChild(target: FuzzTarget, seed: number): Promise<Result> {
  const limitMs = number('limit-ms', args['limit-ms']) ?? target.limitMs ?? DEFAULT_LIMIT_MS;
  const seconds = number('seconds', args.seconds);
  const opts: ChildOptions = {
    target: target.name,
    seed,
    runs: number('runs', args.runs) ?? (seconds === undefined ? 10_000 : undefined),
    seconds,
    limitMs,
    hangMs: Math.max(3 * limitMs, limitMs + 1_000),
    maxRssMb: number('max-rss-mb', args['max-rss-mb']) ?? 3072,
    heapMb: 2048,
  };
  const findings: Finding[] = [];
  return new Promise((resolve, reject) => {
    const child = fork(join(HERE, 'child.ts'), [JSON.stringify(opts)], { serialization: 'advanced', execArgv: [] });
    let result: Result | undefined;
    child.on('message', (m: ChildReport) => {
      if (m.type === 'progress') process.stderr.write(`  ${m.target}: ${m.runs} inputs, ${(m.elapsedMs / 1000).toFixed(0)} s, RSS ${m.rssMb.toFixed(0)} MB\n`);
      else if (m.type === 'finding') {
        findings.push(m.finding);
        report(m.target, m.finding);
      } else result = { ...m, findings };
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (result !== undefined) resolve(result);
      else reject(new Error(`the fuzzing process of ${target.name} exited (${code}) without a result`));
    });
  });
}

const pad = (s: string | number, n: number) => String(s).padStart(n);

async function main(): Promise<number> {
  if (args.list === true) {
    for (const t of await selected()) process.stdout.write(`${t.name.padEnd(18)} ${t.description}\n`);
    return 0;
  }
  const seed = number('seed', args.seed) ?? Date.now() & 0x7fffffff;
  if (args.replay !== undefined || args.index !== undefined) {
    const targets = await selected();
    if (args.target === undefined || targets.length !== 1) fail('--replay and --index need exactly one --target');
    const target = targets[0]!;
    if (args.replay !== undefined) return runSingle(target, new Uint8Array(readFileSync(args.replay)), `replay of ${args.replay}`);
    const index = number('index', args.index)!;
    if (args.seed === undefined) fail('--index needs the --seed of its run');
    const dir = await mkdtemp(join(tmpdir(), 'joule-fuzz-gen-'));
    const instance = await target.setup({ tmpDir: dir });
    const input = inputAt(instance.inputs, seed, index);
    await instance.close?.();
    await rm(dir, { recursive: true, force: true });
    return runSingle(target, input, `seed ${seed} input ${index}`);
  }
  const targets = await selected();
  const budget = [
    args.runs !== undefined || args.seconds === undefined ? `${args.runs ?? 10_000} inputs` : undefined,
    args.seconds !== undefined ? `${args.seconds} s` : undefined,
  ];
  process.stdout.write(
    `fuzzing ${targets.length} target(s), seed ${seed}, ${budget.filter((b) => b !== undefined).join(' or ')} each, whichever comes first (reproducers go to ${show(crashDir)})\n`,
  );
  const results: Result[] = [];
  for (const t of targets) {
    const r = await runChild(t, seed);
    results.push(r);
    const top = Object.entries(r.outcomes)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6)
      .map(([k, n]) => `${k} ${((100 * n) / Math.max(1, r.runs)).toFixed(1)}%`);
    process.stdout.write(
      `${t.name}: ${r.runs} inputs in ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.findings.length} finding(s), peak RSS ${r.peakRssMb.toFixed(0)} MB; outcomes: ${top.join(', ')}${r.aborted === undefined ? '' : `; STOPPED: ${r.aborted.split('\n')[0]}`}\n`,
    );
  }
  process.stdout.write(
    `\n${'target'.padEnd(18)} ${pad('inputs', 9)} ${pad('inputs/s', 9)} ${pad('crashes', 8)} ${pad('hangs', 6)} ${pad('memory', 7)} ${pad('peak RSS', 9)} ${pad('slowest', 9)}\n`,
  );
  for (const r of results) {
    const count = (...kinds: string[]) => r.findings.filter((f) => kinds.includes(f.kind)).length;
    const rate = r.elapsedMs > 0 ? (r.runs / r.elapsedMs) * 1000 : 0;
    process.stdout.write(
      `${r.target.padEnd(18)} ${pad(r.runs, 9)} ${pad(rate.toFixed(0), 9)} ${pad(count('crash', 'property'), 8)} ${pad(count('hang'), 6)} ${pad(count('memory'), 7)} ${pad(`${r.peakRssMb.toFixed(0)} MB`, 9)} ${pad(`${r.slowestMs.toFixed(0)} ms`, 9)}\n`,
    );
  }
  const total = results.reduce((n, r) => n + r.findings.length, 0);
  process.stdout.write(total === 0 ? '\nno crashes, no hangs\n' : `\n${total} finding(s): reproducers in ${show(crashDir)}\n`);
  return total === 0 ? 0 : 1;
}

process.exitCode = await main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  return 2;
});
