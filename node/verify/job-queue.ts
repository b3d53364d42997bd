import { Fifo } from '../../core/fifo.ts';
import type { SignatureSet } from '../../core/signature-sets.ts';
import type { JobVerdict } from './batch.ts';

/** One caller's sets, verified together in one batch (never split), answered with the indexes that failed (and a together job's sum). */
export interface Job {
  readonly sets: readonly SignatureSet[];
  readonly cost: number;
  readonly batchable: boolean;
  /** Judged as one sum (VerificationService.findInvalidTogether). */
  readonly together: boolean;
  readonly queuedAt: number;
  /** See VerifyOptions.skipIf. */
  readonly skipIf?: () => boolean;
  readonly resolve: (verdict: JobVerdict) => void;
  readonly reject: (e: unknown) => void;
}

/** FIFO of jobs of one priority, with their total cost; O(1) at both ends. */
export class JobQueue {
  private readonly jobs = new Fifo<Job>();
  /** Sum of the queued jobs' costs. */
  cost = 0;
  /** Queued jobs that may not wait for company. */
  urgent = 0;

  get length(): number {
    return this.jobs.length;
  }

  /** When the oldest queued job was queued (Infinity when empty). */
  get oldestQueuedAt(): number {
    return this.jobs.peek()?.queuedAt ?? Infinity;
  }

  push(job: Job): void {
    this.jobs.push(job);
    this.cost += job.cost;
    if (!job.batchable) this.urgent++;
  }

  /**
   * Oldest jobs first, as many as fit in `maxCost` (at least one, unless every queued job
   * is to be skipped: those are answered here, with no invalid index, VerifyOptions.skipIf).
   */
  take(maxCost: number): Job[] {
    const out: Job[] = [];
    let cost = 0;
    for (let job = this.jobs.peek(); job !== undefined; job = this.jobs.peek()) {
      if (out.length > 0 && cost + job.cost > maxCost) break;
      this.jobs.shift();
      this.cost -= job.cost;
      if (!job.batchable) this.urgent--;
      if (skipped(job)) {
        job.resolve({ invalid: [], sum: undefined });
        continue;
      }
      out.push(job);
      cost += job.cost;
    }
    return out;
  }

  /** Removes and returns every queued job. */
  drain(): Job[] {
    this.cost = 0;
    this.urgent = 0;
    return this.jobs.drain();
  }
}

/** A job's skipIf, where a failure to answer means "verify it". */
function skipped(job: Job): boolean {
  try {
    return job.skipIf?.() === true;
  } catch {
    return false;
  }
}
