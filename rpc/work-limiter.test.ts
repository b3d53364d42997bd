import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../core/errors.ts';
import { WorkLimiter } from './work-limiter.ts';

const gone = () => new Error('gone');

/** Work that runs until `finish` is called. */
function held() {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  return { work: () => done, finish };
}

describe('WorkLimiter', () => {
  it('runs at most maxRunning at once; the others start in arrival order as places free', async () => {
    const limiter = new WorkLimiter(2, 10);
    const started: number[] = [];
    const jobs = Array.from({ length: 5 }, () => held());
    const runs = jobs.map((j, i) =>
      limiter.run(
        async () => {
          started.push(i);
          await j.work();
          return i;
        },
        undefined,
        gone,
      ),
    );
    await new Promise((r) => setImmediate(r));
    expect([started, limiter.running, limiter.waiting]).toEqual([[0, 1], 2, 3]);
    jobs[1]!.finish();
    await runs[1];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    for (const j of jobs) j.finish();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect([limiter.running, limiter.waiting]).toEqual([0, 0]);
  });

  it('refuses at once with SERVER_BUSY when the line is full, without running the work', async () => {
    const limiter = new WorkLimiter(1, 1);
    const job = held();
    const first = limiter.run(job.work, undefined, gone);
    const second = limiter.run(async () => 'second', undefined, gone);
    let ran = false;
    await expect(
      limiter.run(
        async () => {
          ran = true;
        },
        undefined,
        gone,
      ),
    ).rejects.toMatchObject({ code: ErrorCode.SERVER_BUSY });
    expect(ran).toBe(false);
    job.finish();
    await first;
    expect(await second).toBe('second');
  });

  it('a waiter whose client goes away leaves the line and never runs; its place goes to the next', async () => {
    const limiter = new WorkLimiter(1, 5);
    const job = held();
    const first = limiter.run(job.work, undefined, gone);
    const client = new AbortController();
    let ran = false;
    const left = limiter.run(
      async () => {
        ran = true;
      },
      client.signal,
      gone,
    );
    const next = limiter.run(async () => 'next', undefined, gone);
    client.abort();
    await expect(left).rejects.toThrow('gone');
    expect(limiter.waiting).toBe(1);
    job.finish();
    await first;
    expect(await next).toBe('next');
    expect([ran, limiter.running, limiter.waiting]).toEqual([false, 0, 0]);
  });

  it('a failing work gives its place back', async () => {
    const limiter = new WorkLimiter(1, 5);
    await expect(limiter.run(async () => Promise.reject(new Error('broke')), undefined, gone)).rejects.toThrow('broke');
    expect(await limiter.run(async () => 'after', undefined, gone)).toBe('after');
  });
});
