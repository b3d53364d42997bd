/**
 * The worker thread of one target's fuzzing run (started by child.ts): sets the target up,
 * runs inputs, and tells the watchdog through SharedInput which input is running.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runInputs, type Finding } from './harness.ts';
import { SharedInput } from './shared.ts';
import { loadTarget } from './targets/index.ts';

export interface WorkerData {
  readonly target: string;
  readonly seed: number;
  readonly runs?: number | undefined;
  readonly seconds?: number | undefined;
  readonly limitMs: number;
  readonly tmpDir: string;
  readonly shared: SharedArrayBuffer;
}

export type WorkerMessage =
  | { readonly type: 'ready'; readonly setupMs: number }
  | { readonly type: 'progress'; readonly runs: number; readonly elapsedMs: number }
  | { readonly type: 'finding'; readonly finding: Finding }
  | { readonly type: 'done'; readonly runs: number; readonly outcomes: Record<string, number>; readonly slowestMs: number; readonly elapsedMs: number };

const data = workerData as WorkerData;
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const target = await loadTarget(data.target);
if (target === undefined) throw new Error(`no fuzz target ${data.target}`);
const shared = new SharedInput(data.shared);

const t0 = performance.now();
const instance = await target.setup({ tmpDir: data.tmpDir });
post({ type: 'ready', setupMs: performance.now() - t0 });
let lastProgress = performance.now();
let runs = 0;
const result = await runInputs(instance, {
  seed: data.seed,
  runs: data.runs,
  seconds: data.seconds,
  limitMs: data.limitMs,
  codes: target.codes,
  maxFindings: 10,
  onInput: (index, input) => {
    shared.begin(index, input);
    runs++;
    if (performance.now() - lastProgress > 10_000) {
      lastProgress = performance.now();
      post({ type: 'progress', runs, elapsedMs: lastProgress - t0 });
    }
  },
  afterInput: () => shared.end(),
  onFinding: (finding) => post({ type: 'finding', finding }),
});
await instance.close?.();
post({ type: 'done', runs: result.runs, outcomes: result.outcomes, slowestMs: result.slowestMs, elapsedMs: result.elapsedMs });
