import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { isJouleError } from '../../core/errors.ts';
import { verifySignatureSet, type SignatureSet } from '../../core/signature-sets.ts';
import type { VerifyMetrics } from './metrics.ts';
import { judgeTogether } from './batch.ts';
import { SameThreadVerifier } from './same-thread.ts';
import { cancellingPair, spoil, validSet } from './testing/sets.ts';
import { WorkerPoolVerifier, type WorkerPoolOptions } from './worker-pool.ts';

const pools: WorkerPoolVerifier[] = [];
function pool(opts: WorkerPoolOptions = {}): WorkerPoolVerifier {
  const p = new WorkerPoolVerifier({ workers: 2, ...opts });
  pools.push(p);
  return p;
}
afterEach(async () => {
  for (const p of pools.splice(0)) await p.close();
});

/** VerifyMetrics that keeps what it is told. */
function recording() {
  const fallbacks = new Map<string, number>();
  const queuedMempool: number[] = [];
  const metrics: VerifyMetrics & { fallbacks: Map<string, number>; queuedMempool: number[] } = {
    fallbacks,
    queuedMempool,
    batch() {},
    queued: (priority, cost) => void (priority === 'mempool' && queuedMempool.push(cost)),
    fallback: (reason) => void fallbacks.set(reason, (fallbacks.get(reason) ?? 0) + 1),
    joined() {},
  };
  return metrics;
}

const KINDS = ['ed25519', 'bls', 'bls-aggregate', 'bls-fast-aggregate'] as const;
const SPOILS = ['message', 'signature', 'key', 'garbage-signature', 'short-key'] as const;

/** A set described by small numbers: kind, which keys and messages, spoiled or not and how. */
const arbitrarySet = fc.record({
  kind: fc.constantFrom(...KINDS),
  i: fc.nat({ max: 200 }),
  n: fc.integer({ min: 1, max: 4 }),
  spoil: fc.option(fc.constantFrom(...SPOILS), { freq: 3 }),
});
const build = (d: { kind: (typeof KINDS)[number]; i: number; n: number; spoil: (typeof SPOILS)[number] | null }): SignatureSet => {
  const set = validSet(d.kind, d.i, d.n);
  return d.spoil === null ? set : spoil(set, d.spoil);
};

describe('WorkerPoolVerifier', () => {
  it('agrees with the same-thread service and with each set verified alone, on random valid and invalid sets (property)', async () => {
    const workers = pool({ batchWaitMs: 1, maxBatchCost: 16 });
    const here = new SameThreadVerifier();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(arbitrarySet, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 }), async (jobs) => {
        const sets = jobs.map((j) => j.map(build));
        const truth = sets.map((s) => s.flatMap((x, i) => (verifySignatureSet(x) ? [] : [i])));
        // Submitted together, so the pool batches jobs with one another.
        const fromPool = await Promise.all(sets.map((s, k) => workers.findInvalid(s, { priority: k % 2 === 0 ? 'mempool' : 'block', batchable: true })));
        const fromHere = await Promise.all(sets.map((s) => here.findInvalid(s, { priority: 'mempool' })));
        expect(fromPool).toEqual(truth);
        expect(fromHere).toEqual(truth);
        expect(await Promise.all(sets.map((s) => workers.verify(s, { priority: 'consensus' })))).toEqual(truth.map((t) => t.length === 0));
      }),
      { numRuns: 25 },
    );
  });

  it('a consensus job submitted after a big admission backlog completes first', async () => {
    // Only size and priority decide, never timing; and the consensus job queues like the others.
    const workers = pool({ workers: 1, maxBatchCost: 64, batchWaitMs: 60_000, inlineUrgentCost: 0 });
    const order: string[] = [];
    const backlog = Array.from({ length: 60 }, (_, k) =>
      workers
        .findInvalid(
          Array.from({ length: 32 }, (_, i) => validSet('ed25519', 32 * k + i)),
          { priority: 'mempool', batchable: true },
        )
        .then(() => order.push(`mempool-${k}`)),
    );
    const consensus = workers.verify([validSet('ed25519', 5000)], { priority: 'consensus' }).then(() => order.push('consensus'));
    const block = workers.verify([validSet('bls', 5001)], { priority: 'block', batchable: true }).then(() => order.push('block'));
    await Promise.all([...backlog, consensus, block]);
    // Only what was already on the worker (2 messages of 2 jobs each) may finish before it,
    // and the block job (batchable, alone) is not overtaken by the ready mempool batches.
    expect(order.indexOf('consensus')).toBeLessThanOrEqual(4);
    expect(order.indexOf('block')).toBe(order.indexOf('consensus') + 1);
    expect(order).toHaveLength(62);
  });

  it('a tx admitted after a backlog of telemetry completes before it, and the telemetry queue is shed when full', async () => {
    const workers = pool({ workers: 1, maxBatchCost: 64, batchWaitMs: 60_000, maxQueuedSheddableCost: 40 * 64, inlineUrgentCost: 0 });
    const order: string[] = [];
    const shedFields = new Set<string | undefined>();
    // Batches' readings, checked together (a peer's batch's admission, or this node's own batch as it is built).
    const backlog = Array.from({ length: 60 }, (_, k) =>
      workers.findInvalidTogether(
        Array.from({ length: 16 }, (_, i) => validSet('bls', 16 * k + i)),
        { priority: 'telemetry', batchable: true },
      ),
    );
    const settled = backlog.map((p, k) =>
      p.then(
        () => order.push(`telemetry-${k}`),
        (e: unknown) => {
          if (isJouleError(e)) shedFields.add(e.field);
          order.push(isJouleError(e) && e.code === 'RATE_LIMITED' ? 'shed' : `failed-${k}`);
        },
      ),
    );
    const transfer = workers.verify([validSet('ed25519', 9000)], { priority: 'mempool', batchable: true }).then(() => order.push('mempool'));
    await Promise.all([...settled, transfer]);
    // Its bound (40 batches' worth) refused what came beyond it.
    expect(order.filter((o) => o === 'shed').length).toBeGreaterThan(0);
    // The refusal names what was refused: readings, not a tx.
    expect([...shedFields]).toEqual(['readings']);
    const done = order.filter((o) => o !== 'shed');
    expect(done.every((o) => !o.startsWith('failed'))).toBe(true);
    // Only what was already on the worker (2 batches) may finish before the tx.
    expect(done.indexOf('mempool')).toBeLessThanOrEqual(2);
  });

  it('answers a queued job its caller no longer needs (skipIf) without checking it, and checks the others', async () => {
    const workers = pool({ workers: 1, maxBatchCost: 8, batchWaitMs: 60_000, inlineUrgentCost: 0 });
    const moot = new Set<number>();
    // Every fourth job is spoiled; half of the jobs become moot while they wait.
    const jobs = Array.from({ length: 40 }, (_, k) => {
      const set = k % 4 === 0 ? spoil(validSet('ed25519', 7000 + k), 'signature') : validSet('ed25519', 7000 + k);
      return workers.findInvalid([set], { priority: 'mempool', batchable: true, skipIf: () => moot.has(k) });
    });
    for (let k = 0; k < 40; k += 2) moot.add(k);
    const got = await Promise.all(jobs);
    // The first batches were on the worker before they became moot (two messages of 8).
    for (let k = 16; k < 40; k++) expect(got[k]).toEqual(k % 2 === 0 || k % 4 !== 0 ? [] : [0]);
    for (let k = 1; k < 40; k += 2) expect(got[k]).toEqual([]); // odd jobs are valid and checked
    expect(workers.stats().sets).toBeLessThan(40);
    expect(workers.stats().sets).toBeGreaterThanOrEqual(20 + 8);
  });

  it("a small latency-bound job does not wait behind busy workers: it is verified on the caller's thread, same verdict", async () => {
    const metrics = recording();
    const workers = pool({ workers: 1, metrics });
    const backlog = Array.from({ length: 20 }, (_, k) =>
      workers.verify(
        Array.from({ length: 64 }, (_, i) => validSet('ed25519', 64 * k + i)),
        { priority: 'mempool', batchable: true },
      ),
    );
    const bad = spoil(validSet('ed25519', 7000), 'signature');
    expect(await workers.findInvalid([validSet('ed25519', 7001), bad], { priority: 'consensus' })).toEqual([1]);
    expect(metrics.fallbacks.get('urgent')).toBe(1);
    expect(await Promise.all(backlog)).toEqual(Array(20).fill(true));
    // With a worker idle again, the same job goes to it.
    expect(await workers.verify([validSet('ed25519', 7002)], { priority: 'consensus' })).toBe(true);
    expect(metrics.fallbacks.get('urgent')).toBe(1);
  });

  it('sheds mempool jobs with RATE_LIMITED when their queue is full, but never consensus or block jobs', async () => {
    const metrics = recording();
    const workers = pool({ workers: 1, maxQueuedSheddableCost: 100, maxQueuedCost: 100, metrics });
    const job = () => Array.from({ length: 40 }, (_, i) => validSet('ed25519', i));
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => workers.verify(job(), { priority: 'mempool', batchable: true })));
    const limited = results.filter((r) => r.status === 'rejected' && isJouleError(r.reason) && r.reason.code === 'RATE_LIMITED');
    expect(limited.length).toBeGreaterThan(0);
    expect(results.filter((r) => r.status === 'fulfilled').every((r) => r.value === true)).toBe(true);
    const urgent = await Promise.all(Array.from({ length: 10 }, () => workers.verify(job(), { priority: 'block' })));
    expect(urgent).toEqual(Array(10).fill(true)); // beyond its bound, verified on the caller's thread instead
    expect(workers.stats().fallbacks).toBeGreaterThan(0);
    expect(metrics.fallbacks.get('overflow')).toBe(workers.stats().fallbacks);
    expect(Math.max(...metrics.queuedMempool)).toBeLessThanOrEqual(100); // the bound holds
  });

  it('a worker that dies with work on it changes no verdict: its jobs are verified here, and it is replaced', async () => {
    const metrics = recording();
    const workers = pool({ workers: 2, metrics });
    const sets = Array.from({ length: 200 }, (_, i) => (i % 7 === 0 ? spoil(validSet('ed25519', i), 'signature') : validSet('ed25519', i)));
    const jobs = Array.from({ length: 10 }, (_, k) => workers.findInvalid(sets.slice(20 * k, 20 * k + 20), { priority: 'block' }));
    // Kill one worker while it holds work (a crash in native code looks like this from here).
    const slots = (workers as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots;
    await slots[0]!.worker.terminate();
    const got = (await Promise.all(jobs)).flatMap((inv, k) => inv.map((i) => 20 * k + i));
    expect(got).toEqual(sets.flatMap((s, i) => (verifySignatureSet(s) ? [] : [i])));
    expect(workers.workerCount).toBe(2);
    expect(metrics.fallbacks.get('worker-failed')).toBeGreaterThan(0);
  });

  it('close() rejects queued jobs with UNAVAILABLE and leaves no worker running', async () => {
    const workers = pool({ workers: 2 });
    expect(workers.workerCount).toBe(2);
    const queued = Array.from({ length: 20 }, (_, k) =>
      workers.verify(
        Array.from({ length: 64 }, (_, i) => validSet('ed25519', 64 * k + i)),
        { priority: 'mempool', batchable: true },
      ),
    );
    const outcomes = Promise.allSettled(queued);
    await workers.close();
    const settled = await outcomes;
    expect(settled.some((r) => r.status === 'rejected' && isJouleError(r.reason) && r.reason.code === 'UNAVAILABLE')).toBe(true);
    expect(workers.workerCount).toBe(0); // every worker emitted 'exit'
    await expect(workers.verify([validSet('ed25519', 1)], { priority: 'consensus' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await workers.close(); // idempotent
  });

  it('judges a together job as one sum, apart from the jobs it shares a worker message with', async () => {
    const workers = pool({ batchWaitMs: 20, maxBatchCost: 1024 });
    const pair = cancellingPair(1, 2);
    const withPair = [validSet('bls', 3), ...pair, validSet('bls', 4)];
    const spoiled = [validSet('bls', 5), spoil(validSet('bls', 6), 'message'), validSet('bls', 7)];
    const [a, b, c] = await Promise.all([
      workers.findInvalidTogether(withPair, { priority: 'telemetry', batchable: true }),
      workers.findInvalid(withPair, { priority: 'telemetry', batchable: true }),
      workers.findInvalidTogether(spoiled, { priority: 'telemetry', batchable: true }),
    ]);
    expect(workers.stats().batches).toBe(1);
    expect(b).toEqual([1, 2]);
    // Each together job's verdict and sum are its own, as judged on this thread.
    expect(a).toEqual(judgeTogether(withPair));
    expect(c).toEqual(judgeTogether(spoiled));
    expect(c.invalid).toEqual([1]);
  });
});
