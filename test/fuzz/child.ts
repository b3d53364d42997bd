/**
 * One target's fuzzing run, in its own process (so that its peak memory is its own): the
 * inputs run on a worker thread (worker.ts) while this thread watches it. An input that
 * has not finished after `hangMs`, a worker over its heap limit, or a process over
 * `maxRssMb` ends the run with a finding naming the input at hand. Reports to run.ts over
 * IPC (advanced serialization: inputs travel as bytes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Finding, FindingKind } from './harness.ts';
import { SharedInput } from './shared.ts';
import type { WorkerData, WorkerMessage } from './worker.ts';

export interface ChildOptions {
  readonly target: string;
  readonly seed: number;
  readonly runs?: number | undefined;
  readonly seconds?: number | undefined;
  readonly limitMs: number;
  /** An input running this long is stuck: the worker is stopped. */
  readonly hangMs: number;
  readonly maxRssMb: number;
  readonly heapMb: number;
}

export type ChildReport =
  | { readonly type: 'progress'; readonly target: string; readonly runs: number; readonly elapsedMs: number; readonly rssMb: number }
  | { readonly type: 'finding'; readonly target: string; readonly finding: Finding }
  | {
      readonly type: 'result';
      readonly target: string;
      readonly runs: number;
      readonly outcomes: Record<string, number>;
      readonly slowestMs: number;
      readonly elapsedMs: number;
      readonly setupMs: number;
      readonly peakRssMb: number;
      /** Why the run ended early, if it did (a hang, memory, a worker that died). */
      readonly aborted?: string | undefined;
    };

const opts = JSON.parse(process.argv[2]!) as ChildOptions;
const send = (r: ChildReport) => process.send!(r);
const tmpDir = mkdtempSync(join(tmpdir(), `joule-fuzz-${opts.target}-`));
const shared = new SharedInput();
const data: WorkerData = { target: opts.target, seed: opts.seed, runs: opts.runs, seconds: opts.seconds, limitMs: opts.limitMs, tmpDir, shared: shared.buffer };
const worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: data, resourceLimits: { maxOldGenerationSizeMb: opts.heapMb } });

let peakRss = process.memoryUsage.rss();
let setupMs = 0;
let runs = 0;
let done: Extract<WorkerMessage, { type: 'done' }> | undefined;
let aborted: string | undefined;

function abort(kind: FindingKind, message: string): void {
  if (aborted !== undefined) return;
  aborted = message;
  const cur = shared.current();
  if (cur !== undefined) {
    runs = Math.max(runs, cur.index); // inputs 0..index-1 are done (a run starts at index 0)
    const note = cur.truncated ? ' (input truncated to its first 4 MiB)' : '';
    send({ type: 'finding', target: opts.target, finding: { kind, seed: opts.seed, index: cur.index, input: cur.input, message: message + note } });
  } else {
    send({
      type: 'finding',
      target: opts.target,
      finding: { kind, seed: opts.seed, index: -1, input: new Uint8Array(0), message: `${message} (outside any input: setup or teardown)` },
    });
  }
  void worker.terminate();
}

const watchdog = setInterval(() => {
  const rss = process.memoryUsage.rss();
  peakRss = Math.max(peakRss, rss);
  if (rss > opts.maxRssMb * 1024 * 1024) abort('memory', `resident memory ${(rss / 2 ** 20).toFixed(0)} MB over the limit of ${opts.maxRssMb} MB`);
  const cur = shared.current();
  if (cur !== undefined && Date.now() - cur.startedAt > opts.hangMs) abort('hang', `input still running after ${opts.hangMs} ms: stopped`);
}, 100);

worker.on('message', (m: WorkerMessage) => {
  if (m.type === 'ready') setupMs = m.setupMs;
  else if (m.type === 'progress') {
    runs = m.runs;
    send({ type: 'progress', target: opts.target, runs: m.runs, elapsedMs: m.elapsedMs, rssMb: process.memoryUsage.rss() / 2 ** 20 });
  } else if (m.type === 'finding') send({ type: 'finding', target: opts.target, finding: m.finding });
  else done = m;
});

worker.on('error', (e: Error & { code?: string }) => {
  // An exception nothing caught in the worker (an unhandled rejection of the code under
  // test included), or its heap over the limit: blamed on the input at hand.
  const kind: FindingKind = e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'crash';
  abort(kind, `${e.name}: ${e.message}${e.stack === undefined ? '' : `\n${e.stack}`}`);
});

worker.on('exit', () => {
  clearInterval(watchdog);
  peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
  rmSync(tmpDir, { recursive: true, force: true });
  send({
    type: 'result',
    target: opts.target,
    runs: done?.runs ?? runs,
    outcomes: done?.outcomes ?? {},
    slowestMs: done?.slowestMs ?? 0,
    elapsedMs: done?.elapsedMs ?? 0,
    setupMs,
    peakRssMb: peakRss / 2 ** 20,
    aborted,
  });
  process.disconnect();
});
