import { describe, expect, it } from 'vitest';
import { ScrapedTotal } from './scraped-total.ts';

describe('ScrapedTotal', () => {
  it('sums the nodes, and a node that does not answer counts with its last value', () => {
    const t = new ScrapedTotal();
    t.observe('a', 10);
    t.observe('b', 5);
    expect(t.total).toBe(15);
    t.observe('a', 12);
    t.observe('b', undefined);
    expect(t.total).toBe(17);
  });

  it('a counter that went down (its node restarted) counts on from what it had reached', () => {
    const t = new ScrapedTotal();
    t.observe('a', 100);
    t.observe('a', 3);
    expect(t.total).toBe(103);
    t.observe('a', 7);
    expect(t.total).toBe(107);
  });

  it('never goes down, whatever the scrapes say', () => {
    const t = new ScrapedTotal();
    let before = t.total;
    for (const v of [5, undefined, 2, 9, 0, undefined, 4, 4, 1]) {
      t.observe('a', v);
      expect(t.total).toBeGreaterThanOrEqual(before);
      before = t.total;
    }
  });
});
