import { describe, expect, it } from 'vitest';
import { startProgress, withProgress } from './progress.ts';

function sink(isTTY: boolean): { stream: { isTTY: boolean; write(s: string): boolean }; out: () => string } {
  let buf = '';
  return { stream: { isTTY, write: (s: string) => ((buf += s), true) }, out: () => buf };
}

describe('progress', () => {
  it('prints plain, rate-limited lines when not a TTY (no control characters)', () => {
    const s = sink(false);
    const p = startProgress('syncing', { stream: s.stream, plainIntervalMs: 0 });
    p.update('syncing 10/100');
    p.update('syncing 10/100'); // unchanged: not repeated
    p.succeed('synced');
    p.fail('ignored after the end');
    const lines = s.out().trim().split('\n');
    expect(lines).toEqual(['syncing ...', 'syncing 10/100 ...', expect.stringMatching(/^done: synced \(\d+\.\ds\)$/)]);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is what the test looks for (no ANSI codes off a TTY).
    expect(s.out()).not.toMatch(/\r|\x1b/);
  });

  it('redraws one line in place on a TTY and ends it with a mark', async () => {
    const s = sink(true);
    const p = startProgress('waiting', { stream: s.stream });
    p.update('still waiting');
    await new Promise((r) => setTimeout(r, 250));
    p.fail();
    expect(s.out()).toContain('\r\x1b[2K');
    expect(s.out()).toMatch(/still waiting/);
    expect(s.out().endsWith('\n')).toBe(true);
    expect(s.out()).toMatch(/✖ still waiting/);
  });

  it('withProgress ends the line failed when the work throws (the error goes on), and succeeded with its result otherwise', async () => {
    const s = sink(false);
    await expect(withProgress('writing keys', async () => Promise.reject(new Error('disk full')), undefined, { stream: s.stream })).rejects.toThrow(
      'disk full',
    );
    expect(s.out()).toMatch(/^writing keys \.\.\.\nfailed: writing keys \(/);
    const t = sink(false);
    const n = await withProgress(
      'writing keys',
      async (p) => {
        p.update('writing keys 3/3');
        return 3;
      },
      (k) => `${k} keys written`,
      { stream: t.stream, plainIntervalMs: 0 },
    );
    expect(n).toBe(3);
    expect(t.out()).toMatch(/writing keys 3\/3 \.\.\.\ndone: 3 keys written \(/);
  });
});
