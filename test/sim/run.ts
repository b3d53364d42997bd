/**
 * `npm run sim -- --seeds 10000 [--first 1] [--n 1,4,7] [--workers K] [--emergencies]`: runs
 * the deterministic simulation for as many seeds as asked, per cluster size, spread over
 * worker threads, and prints every failing seed with its violation (replay one with
 * `SIM_SEED=<seed> SIM_SEEDS=1 npx vitest run test/sim/simulation-<n>.test.ts`, or
 * `test/sim/emergency.test.ts` for a run with `--emergencies`: an emergency transition in each).
 * Exit code 1 when any seed failed.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Simulation } from './simulation.ts';
import type { SimResult } from './world.ts';

interface Job {
  readonly n: number;
  readonly seeds: readonly number[];
  readonly emergencies: boolean;
}
interface Report {
  readonly n: number;
  readonly ran: number;
  readonly failures: string[];
  readonly results: SimResult[];
}

/** Runs the seeds, posting results in chunks so an interrupted run still reports what it ran. */
function runJob(job: Job, post: (chunk: Report) => void): void {
  let chunk: Report = { n: job.n, ran: 0, failures: [], results: [] };
  job.seeds.forEach((seed, i) => {
    try {
      chunk.results.push(new Simulation(job.n, seed, { emergencies: job.emergencies }).run());
    } catch (e) {
      chunk.failures.push((e as Error).message);
    }
    (chunk as { ran: number }).ran++;
    if ((i + 1) % 50 === 0 || i === job.seeds.length - 1) {
      post(chunk);
      chunk = { n: job.n, ran: 0, failures: [], results: [] };
    }
  });
}

if (!isMainThread) {
  runJob(workerData as Job, (report) => parentPort!.postMessage({ report }));
} else {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '500' },
      first: { type: 'string', default: '1' },
      n: { type: 'string', default: '1,4,7' },
      workers: { type: 'string', default: String(availableParallelism()) },
      emergencies: { type: 'boolean', default: false },
    },
  });
  const count = Number(values.seeds);
  const first = Number(values.first);
  const sizes = values.n.split(',').map(Number);
  const workers = Math.max(1, Number(values.workers));
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(first) || sizes.some((n) => !Number.isSafeInteger(n) || n < 1)) {
    console.error('usage: npm run sim -- --seeds N [--first S] [--n 1,4,7] [--workers K] [--emergencies]');
    process.exit(2);
  }
  const t0 = performance.now();
  const total = count * sizes.length;
  let done = 0;
  const jobs: Job[] = [];
  for (const n of sizes) {
    for (let w = 0; w < workers; w++) {
      const seeds = [];
      for (let s = first + w; s < first + count; s += workers) seeds.push(s);
      if (seeds.length > 0) jobs.push({ n, seeds, emergencies: values.emergencies });
    }
  }
  const reports: Report[] = [];
  const queue = [...jobs];
  const runOne = (): Promise<void> => {
    const job = queue.shift();
    if (job === undefined) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url), { workerData: job });
      w.on('message', (msg: { report: Report }) => {
        reports.push(msg.report);
        done += msg.report.ran;
        for (const f of msg.report.failures) process.stderr.write(`\nFAIL n=${msg.report.n}: ${f}\n`);
        process.stderr.write(`\r${done}/${total} seeds, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      });
      w.on('error', reject);
      w.on('exit', () => resolve());
    }).then(runOne);
  };
  const printReport = (interrupted: boolean): number => {
    process.stderr.write('\n');
    let failed = 0;
    for (const n of sizes) {
      const mine = reports.filter((r) => r.n === n);
      const results = mine.flatMap((r) => r.results);
      const failures = mine.flatMap((r) => r.failures);
      failed += failures.length;
      const sum = (k: keyof SimResult) => results.reduce((a, r) => a + (r[k] as number), 0);
      const recovery = results
        .filter((r) => r.recoveryRuns > 0)
        .map((r) => r.recoveryMs)
        .sort((a, b) => a - b);
      const pct = (p: number) => recovery[Math.min(recovery.length - 1, Math.floor((p / 100) * recovery.length))] ?? 0;
      console.log(
        `n=${n}: ${mine.reduce((a, r) => a + r.ran, 0)} seeds from ${first}, ${failures.length} failed; ` +
          `${sum('commits')} commits, ${sum('evidence')} evidence, ${sum('bans')} sync bans, ${sum('crashes')} crashes, ` +
          `${sum('setChanges')} set changes, ${sum('transitions')} transitions, ${sum('emergencies')} emergency transitions, ${sum('premature')} premature verdicts; ` +
          `recovery after the heal (${recovery.length} all-honest runs): p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${recovery.at(-1) ?? 0} ms`,
      );
      for (const f of failures) console.log(`  FAIL ${f}`);
    }
    console.log(`${done} seeds in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    if (interrupted) console.log(`interrupted after ${done} of ${total} seeds: the figures above cover the seeds that ran`);
    return failed;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      printReport(true);
      process.exit(130);
    });
  }
  await Promise.all(Array.from({ length: workers }, runOne));
  const failed = printReport(false);
  process.exitCode = failed > 0 ? 1 : 0;
}
