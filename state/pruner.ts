import { readU64be, u64be } from '../core/bytes.ts';
import { MetaKey, metaDbKey, type Database } from './db.ts';
import { rootKey, staleKey, staleNodeKeys } from './tree-store.ts';

/** Stale nodes deleted per LevelDB batch: small enough that a block commit never waits long behind one. */
export const PRUNE_BATCH_NODES = 4096;

/** The oldest provable height recorded in the store (0 when nothing was pruned). */
export async function readOldestProvable(db: Database): Promise<number> {
  const raw = await db.get(metaDbKey(MetaKey.stateOldest));
  return raw === undefined ? 0 : readU64be(raw);
}

/**
 * Removes tree nodes that only heights older than the history window need, in the
 * background: it never holds the commit path, and its batches are small.
 *
 * Each block records in its own atomic batch which node keys it made stale (one
 * stale-index record, state/tree-store.ts). Pruning height s deletes the nodes that block
 * s made stale — nodes of trees before s only, as node keys are never re-used — so after
 * it, heights below s are no longer provable. Crash consistency: the marker "oldest
 * provable = s" is written in the same batch as the first deletions for s, and the
 * stale-index record of s goes with the last. So whatever batch a crash interrupts, every
 * height at or above the marker has all its nodes, a height below it answers
 * STATE_PRUNED, and pruning resumes from the record still present (deleting a node twice
 * is harmless). Batches are not fsynced: LevelDB's log keeps them in order, and a lost
 * batch is only redone.
 */
export class StatePruner {
  private readonly db: Database;
  private readonly historyBlocks: number;
  private readonly onError: (e: unknown) => void;
  private readonly batchNodes: number;
  private oldestProvable: number;
  private target = 0;
  private running: Promise<void> | undefined;
  private stopping = false;
  /** Heights pruned since opening (for metrics and tests). */
  pruned = 0;

  constructor(db: Database, historyBlocks: number, oldestProvable: number, onError: (e: unknown) => void, batchNodes = PRUNE_BATCH_NODES) {
    this.db = db;
    this.batchNodes = batchNodes;
    this.historyBlocks = historyBlocks;
    this.oldestProvable = oldestProvable;
    this.onError = onError;
  }

  /** Heights below this are not provable any more (set before their nodes go). */
  get oldest(): number {
    return this.oldestProvable;
  }

  /** The head is now `head`: prune what fell out of the window, in the background. */
  wake(head: number): void {
    this.target = Math.max(this.target, head - this.historyBlocks);
    if (this.running !== undefined || this.stopping || this.oldestProvable >= this.target) return;
    this.running = this.run().then(
      () => {
        this.running = undefined;
        if (!this.stopping && this.oldestProvable < this.target) this.wake(head);
      },
      (e: unknown) => {
        this.running = undefined;
        this.onError(e);
      },
    );
  }

  /** Resolves once no batch is in flight; nothing is pruned after it. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** Resolves when pruning caught up with the last `wake` (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopping && this.oldestProvable < this.target) await this.pruneHeight(this.oldestProvable + 1);
  }

  /** Deletes what block `s` made stale; afterwards `s` is the oldest provable height. */
  private async pruneHeight(s: number): Promise<void> {
    const record = await this.db.get(staleKey(s));
    const keys = record === undefined ? [] : staleNodeKeys(record);
    // Proofs in flight at heights below s answer STATE_PRUNED from now on, even before the batch lands.
    this.oldestProvable = s;
    for (let i = 0; i === 0 || i < keys.length; i += this.batchNodes) {
      const batch = this.db.batch();
      if (i === 0) {
        batch.put(metaDbKey(MetaKey.stateOldest), u64be(s));
        batch.del(rootKey(s - 1));
      }
      for (const k of keys.slice(i, i + this.batchNodes)) batch.del(k);
      if (i + this.batchNodes >= keys.length) batch.del(staleKey(s));
      await batch.write({ sync: false });
    }
    this.pruned++;
  }
}
