import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import type { SignatureSet } from '../../core/signature-sets.ts';
import { judgeSets, type JobVerdict } from './batch.ts';
import { JobQueue, type Job } from './job-queue.ts';
import { NO_VERIFY_METRICS, type VerifyMetrics } from './metrics.ts';
import { isSheddable, PRIORITIES, type VerificationService, type VerifyOptions, type VerifyPriority } from './service.ts';
import { packSets } from './wire.ts';
import type { WorkerReply, WorkerRequest } from './worker.ts';

export interface WorkerPoolOptions {
  /** Worker threads; default availableParallelism() - 1, at least 1 (the event loop keeps a core; see README). */
  readonly workers?: number;
  /** Cost (about one Ed25519 verification per unit) of the jobs one worker message carries at most; default 64. */
  readonly maxBatchCost?: number;
  /** How long a batchable job waits for company before it is sent anyway; default 5 ms. */
  readonly batchWaitMs?: number;
  /** Queued cost, in each of the mempool and telemetry queues, beyond which their jobs are refused with RATE_LIMITED; default 16,384. */
  readonly maxQueuedSheddableCost?: number;
  /** Queued consensus or block cost beyond which such a job is verified on the caller's thread instead (never refused); default 65,536. */
  readonly maxQueuedCost?: number;
  /**
   * A latency-bound job (`batchable: false`) of at most this cost is verified on the caller's
   * thread when no worker is idle, rather than wait behind the batches on them (a consensus
   * message's envelope: a fraction of a millisecond). Default 8; 0: always queue.
   */
  readonly inlineUrgentCost?: number;
  /** Told when a worker fails (it is replaced; its jobs are verified on this thread). */
  readonly onWorkerError?: (e: Error) => void;
  readonly metrics?: VerifyMetrics;
}

export interface PoolStats {
  readonly workers: number;
  readonly queuedCost: Record<VerifyPriority, number>;
  readonly batches: number;
  readonly sets: number;
  readonly checks: number;
  /** Jobs verified on the caller's thread (a worker failed, a queue overflowed, no worker left). */
  readonly fallbacks: number;
}

/** Messages a worker holds at once: the next batch waits in its port while it works, so a busy event loop never leaves it idle. */
const PIPELINE = 2;
/** A worker that keeps dying is not replaced beyond this; the pool then verifies on this thread. */
const MAX_RESTARTS = 16;

/** About how many Ed25519 verifications a set costs (BLS: half a pairing batched, plus hashing to the curve). */
export function setCost(set: SignatureSet): number {
  switch (set.kind) {
    case 'ed25519':
      return 1;
    case 'bls':
      return 4;
    case 'bls-fast-aggregate':
      return 4 + (set.publicKeys.length >> 4);
    case 'bls-aggregate':
      return 2 * Math.max(1, set.messages.length);
  }
}

interface Batch {
  readonly jobs: readonly Job[];
  readonly sets: number;
}

interface Slot {
  readonly worker: Worker;
  readonly inFlight: Map<number, Batch>;
  exited: boolean;
}

/**
 * The verification service on worker threads (blst and node:crypto in each): priority
 * queues (consensus, block import, mempool admission, telemetry), batches formed by cost or
 * after a short wait, and a failed batch bisected inside the worker (batch.ts). See
 * README.md for the sizing and the rules.
 */
export class WorkerPoolVerifier implements VerificationService {
  private readonly slots: Slot[] = [];
  private readonly queues = new Map<VerifyPriority, JobQueue>(PRIORITIES.map((p) => [p, new JobQueue()]));
  private readonly maxBatchCost: number;
  private readonly batchWaitMs: number;
  private readonly maxQueuedSheddableCost: number;
  private readonly maxQueuedCost: number;
  private readonly inlineUrgentCost: number;
  private readonly onWorkerError: (e: Error) => void;
  private readonly metrics: VerifyMetrics;
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private restarts = 0;
  private counts = { batches: 0, sets: 0, checks: 0, fallbacks: 0 };

  constructor(opts: WorkerPoolOptions = {}) {
    const n = opts.workers ?? Math.max(1, availableParallelism() - 1);
    if (!Number.isInteger(n) || n < 1) throw new JouleError(ErrorCode.CONFIG_INVALID, `a verification pool needs at least one worker, not ${n}`, 'workers');
    this.maxBatchCost = opts.maxBatchCost ?? 64;
    this.batchWaitMs = opts.batchWaitMs ?? 5;
    this.maxQueuedSheddableCost = opts.maxQueuedSheddableCost ?? 16_384;
    this.maxQueuedCost = opts.maxQueuedCost ?? 65_536;
    this.inlineUrgentCost = opts.inlineUrgentCost ?? 8;
    this.onWorkerError = opts.onWorkerError ?? (() => {});
    this.metrics = opts.metrics ?? NO_VERIFY_METRICS;
    for (let i = 0; i < n; i++) this.spawn();
  }

  /** Live worker threads (0 once closed). */
  get workerCount(): number {
    return this.slots.filter((s) => !s.exited).length;
  }

  stats(): PoolStats {
    const queuedCost = Object.fromEntries(PRIORITIES.map((p) => [p, this.queues.get(p)!.cost])) as Record<VerifyPriority, number>;
    return { workers: this.workerCount, queuedCost, ...this.counts };
  }

  async verify(sets: readonly SignatureSet[], opts: VerifyOptions): Promise<boolean> {
    return (await this.findInvalid(sets, opts)).length === 0;
  }

  async findInvalid(sets: readonly SignatureSet[], opts: VerifyOptions): Promise<number[]> {
    return (await this.judge(sets, opts, false)).invalid;
  }

  findInvalidTogether(sets: readonly SignatureSet[], opts: VerifyOptions): Promise<JobVerdict> {
    return this.judge(sets, opts, true);
  }

  private judge(sets: readonly SignatureSet[], opts: VerifyOptions, together: boolean): Promise<JobVerdict> {
    if (this.closed) return Promise.reject(new JouleError(ErrorCode.UNAVAILABLE, 'signature verification has stopped'));
    if (sets.length === 0) return Promise.resolve({ invalid: [], sum: undefined });
    let cost = 0;
    for (const s of sets) cost += setCost(s);
    const queue = this.queues.get(opts.priority)!;
    if (isSheddable(opts.priority) && queue.length > 0 && queue.cost + cost > this.maxQueuedSheddableCost) {
      // What the caller refuses: a tx at admission; readings (a peer's batch's, or this node's devices') at telemetry.
      const what = opts.priority === 'telemetry' ? 'readings' : 'tx';
      return Promise.reject(new JouleError(ErrorCode.RATE_LIMITED, `the ${opts.priority} signature verification queue is full; retry later`, what));
    }
    if (this.workerCount === 0 || (!isSheddable(opts.priority) && queue.length > 0 && queue.cost + cost > this.maxQueuedCost)) {
      this.counts.fallbacks++;
      this.metrics.fallback(this.workerCount === 0 ? 'no-worker' : 'overflow');
      return Promise.resolve(judgeSets(sets, together));
    }
    if (opts.batchable !== true && cost <= this.inlineUrgentCost && !this.slots.some((s) => !s.exited && s.inFlight.size === 0)) {
      this.counts.fallbacks++;
      this.metrics.fallback('urgent');
      return Promise.resolve(judgeSets(sets, together));
    }
    return new Promise((resolve, reject) => {
      queue.push({
        sets,
        cost,
        batchable: opts.batchable === true,
        together,
        queuedAt: performance.now(),
        ...(opts.skipIf !== undefined ? { skipIf: opts.skipIf } : {}),
        resolve,
        reject,
      });
      this.metrics.queued(opts.priority, queue.cost);
      this.pump();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const stopped = new JouleError(ErrorCode.UNAVAILABLE, 'signature verification has stopped');
    for (const queue of this.queues.values()) for (const job of queue.drain()) job.reject(stopped);
    for (const slot of this.slots) {
      for (const batch of slot.inFlight.values()) for (const job of batch.jobs) job.reject(stopped);
      slot.inFlight.clear();
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private spawn(): void {
    const worker = new Worker(new URL('./worker.ts', import.meta.url));
    const slot: Slot = { worker, inFlight: new Map(), exited: false };
    worker.unref(); // referenced only while it holds work (send), so a forgotten pool never keeps a process alive
    worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply));
    worker.on('error', (e) => this.onWorkerError(e));
    worker.on('exit', () => this.onExit(slot));
    this.slots.push(slot);
  }

  private onExit(slot: Slot): void {
    slot.exited = true;
    this.slots.splice(this.slots.indexOf(slot), 1);
    if (this.closed) return;
    // A worker died with work on it: that work is verified here, and the worker replaced.
    const batches = [...slot.inFlight.values()];
    slot.inFlight.clear();
    for (const batch of batches) this.verifyHere(batch.jobs, 'worker-failed');
    if (this.restarts < MAX_RESTARTS) {
      this.restarts++;
      this.spawn();
    }
    if (this.workerCount === 0) {
      for (const [priority, queue] of this.queues) {
        this.verifyHere(queue.drain(), 'no-worker');
        this.metrics.queued(priority, 0);
      }
    }
    this.pump();
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    const batch = slot.inFlight.get(reply.id);
    if (batch === undefined) return;
    slot.inFlight.delete(reply.id);
    if (slot.inFlight.size === 0) slot.worker.unref();
    if ('error' in reply) {
      this.onWorkerError(new Error(`verification worker failed: ${reply.error}`));
      this.verifyHere(batch.jobs, 'worker-failed');
    } else {
      this.counts.checks += reply.checks;
      let at = 0;
      let next = 0;
      let sums = 0;
      for (const job of batch.jobs) {
        const end = at + job.sets.length;
        const mine: number[] = [];
        while (next < reply.invalid.length && reply.invalid[next]! < end) mine.push(reply.invalid[next++]! - at);
        job.resolve({ invalid: mine, sum: job.together ? reply.sums[sums++] : undefined });
        at = end;
      }
    }
    this.pump();
  }

  private verifyHere(jobs: readonly Job[], reason: 'worker-failed' | 'no-worker'): void {
    for (const job of jobs) {
      this.counts.fallbacks++;
      this.metrics.fallback(reason);
      job.resolve(judgeSets(job.sets, job.together));
    }
  }

  /**
   * Sends batches to workers with room, the highest-priority queued jobs first. Size or
   * time: batchable jobs wait for company until a batch is full or the oldest has waited
   * batchWaitMs, unless lower-priority work is ready to go, which never overtakes them.
   */
  private pump(): void {
    if (this.closed) return;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    let wakeIn = Infinity;
    for (let slot = this.freeSlot(); slot !== undefined; slot = this.freeSlot()) {
      const now = performance.now();
      const queued = PRIORITIES.map((p) => this.queues.get(p)!).filter((q) => q.length > 0);
      if (queued.length === 0) break;
      const ready = (q: JobQueue) => q.cost >= this.maxBatchCost || q.urgent > 0 || now - q.oldestQueuedAt >= this.batchWaitMs;
      const first = queued[0]!;
      if (!queued.some(ready)) {
        wakeIn = Math.min(...queued.map((q) => this.batchWaitMs - (now - q.oldestQueuedAt)));
        break;
      }
      const jobs = first.take(this.maxBatchCost);
      if (jobs.length > 0) this.send(slot, jobs);
      this.metrics.queued(PRIORITIES.find((p) => this.queues.get(p) === first)!, first.cost);
    }
    if (wakeIn !== Infinity) this.timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(wakeIn)));
  }

  /** The live worker with the least work on it, if it has room. */
  private freeSlot(): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.slots) if (!s.exited && s.inFlight.size < PIPELINE && (best === undefined || s.inFlight.size < best.inFlight.size)) best = s;
    return best;
  }

  private send(slot: Slot, jobs: Job[]): void {
    const sets: SignatureSet[] = [];
    const together: [number, number][] = [];
    for (const job of jobs) {
      if (job.together) together.push([sets.length, sets.length + job.sets.length]);
      for (const s of job.sets) sets.push(s);
    }
    const packed = packSets(sets);
    const id = this.nextId++;
    slot.inFlight.set(id, { jobs, sets: sets.length });
    slot.worker.ref();
    this.counts.batches++;
    this.counts.sets += sets.length;
    this.metrics.batch(sets.length);
    const request: WorkerRequest = { id, sets: packed, together };
    slot.worker.postMessage(request, [packed.buffer as ArrayBuffer]);
  }
}
