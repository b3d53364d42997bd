import type { SignatureSet } from '../../core/signature-sets.ts';

/** One caller's sets, verified together in one batch (never split), answered with the indexes that failed. */
export interface Job {
  readonly sets: readonly SignatureSet[];
  readonly cost: number;
  readonly batchable: boolean;
  readonly queuedAt: number;
  /** See VerifyOptions.skipIf. */
  readonly skipIf?: () => boolean;
  readonly resolve: (invalid: number[]) => void;
  readonly reject: (e: unknown) => void;
}

/** FIFO of jobs of one priority, with their total cost; O(1) at both ends. */
export class JobQueue {
  private items: Job[] = [];
  private head = 0;
  /** Sum of the queued jobs' costs. */
  cost = 0;
  /** Queued jobs that may not wait for company. */
  urgent = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /** When the oldest queued job was queued (Infinity when empty). */
  get oldestQueuedAt(): number {
    return this.length === 0 ? Infinity : this.items[this.head]!.queuedAt;
  }

  push(job: Job): void {
    this.items.push(job);
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
    while (this.length > 0) {
      const job = this.items[this.head]!;
      if (out.length > 0 && cost + job.cost > maxCost) break;
      this.head++;
      this.cost -= job.cost;
      if (!job.batchable) this.urgent--;
      if (skipped(job)) {
        job.resolve([]);
        continue;
      }
      out.push(job);
      cost += job.cost;
    }
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Removes and returns every queued job. */
  drain(): Job[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.cost = 0;
    this.urgent = 0;
    return out;
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
