import { describe, expect, it } from 'vitest';
import { SerialQueue } from './serial-queue.ts';

describe('SerialQueue', () => {
  it('runs tasks one at a time in submission order, isolating failures', async () => {
    const errors: unknown[] = [];
    const q = new SerialQueue((e) => errors.push(e));
    const log: string[] = [];
    const slow = (name: string, ms: number) => async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
    };
    void q.push(slow('a', 20));
    void q.push(() => {
      throw new Error('boom');
    });
    void q.push(slow('b', 1));
    await q.idle();
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
    expect(errors).toHaveLength(1);
  });

  it('sheds offered work beyond the limit but never pushed work', async () => {
    const q = new SerialQueue(() => {});
    let release!: () => void;
    void q.push(() => new Promise<void>((r) => (release = r)));
    const accepted = [1, 2, 3, 4].map(() => q.offer(() => {}, 3));
    expect(accepted).toEqual([true, true, false, false]);
    await new Promise((r) => setTimeout(r, 0)); // the first task has started
    release();
    await q.idle();
    expect(q.length).toBe(0);
  });
});
