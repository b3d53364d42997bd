import { describe, expect, it } from 'vitest';
import { ScrapeGate } from './scrape-gate.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A registry whose collection takes `ms` and answers how many collections have started. */
function slowRegistry(ms: number) {
  const r = {
    started: 0,
    async collect(): Promise<string> {
      const n = ++r.started;
      await sleep(ms);
      return String(n);
    },
  };
  return r;
}

describe('ScrapeGate: what scraping /metrics may cost', () => {
  it('scrapes that arrive together share one collection', async () => {
    const registry = slowRegistry(20);
    const gate = new ScrapeGate(registry.collect);
    const answers = await Promise.all(Array.from({ length: 200 }, () => gate.text()));
    expect(new Set(answers)).toEqual(new Set(['1']));
    expect(registry.started).toBe(1);
  });

  it('a scrape that arrives while a collection runs gets the next one, never a result collected before it arrived', async () => {
    const registry = slowRegistry(30);
    const gate = new ScrapeGate(registry.collect);
    const first = gate.text();
    await sleep(10);
    expect(registry.started).toBe(1);
    const later = [gate.text(), gate.text()];
    expect(await first).toBe('1');
    expect(await Promise.all(later)).toEqual(['2', '2']);
  });

  it('scraped back to back by many clients, collecting takes at most about half the time', async () => {
    const ms = 20;
    const registry = slowRegistry(ms);
    const gate = new ScrapeGate(registry.collect);
    const until = performance.now() + 600;
    const client = async () => {
      while (performance.now() < until) await gate.text();
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 8 }, client));
    const elapsed = performance.now() - t0;
    expect(registry.started * ms).toBeLessThanOrEqual(elapsed / 2 + 2 * ms);
    expect(registry.started).toBeGreaterThanOrEqual(3);
  });

  it('a collection that fails fails its scrapes only; the next one is collected afresh', async () => {
    let fail = true;
    const gate = new ScrapeGate(async () => {
      if (fail) throw new Error('registry broke');
      return 'ok';
    });
    await expect(Promise.all([gate.text(), gate.text()])).rejects.toThrow('registry broke');
    fail = false;
    expect(await gate.text()).toBe('ok');
  });
});
