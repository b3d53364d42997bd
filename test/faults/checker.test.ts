import { describe, expect, it } from 'vitest';
import { divergences } from './checker.ts';
import { findRegressions, HeightMonitor } from './monitor.ts';

const block = (hash: string, stateRoot = `root-${hash}`) => ({ hash, stateRoot });

describe('fault checker: the comparisons it relies on do fail', () => {
  it('finds a different block, and a different state root under the same block, at the heights common to all nodes', () => {
    const a = { node: 'a', blocks: [block('1'), block('2'), block('3')] };
    const b = { node: 'b', blocks: [block('1'), block('2x'), block('3'), block('4')] };
    const c = { node: 'c', blocks: [block('1'), block('2'), block('3', 'other')] };
    expect(divergences([a, b, c])).toEqual(['height 2: a has block 2, b has 2x', 'height 3: block 3 has state root root-3 on a, other on c']);
    expect(divergences([a, { node: 'a2', blocks: [...a.blocks, block('9')] }])).toEqual([]);
  });

  it('finds every height that went down, against the highest seen before', () => {
    const s = [5, 6, 6, 4, 7, 6].map((height, t) => ({ t, height, peers: 3 }));
    expect(findRegressions(s)).toEqual([
      { from: 6, to: 4, t: 3 },
      { from: 7, to: 6, t: 5 },
    ]);
  });

  it('times recovery from the first sample above the head on every node', () => {
    const m = new HeightMonitor(2, async () => ({ height: 0, peers: 0 }));
    m.samples[0]!.push({ t: 10, height: 5, peers: 1 }, { t: 20, height: 6, peers: 1 }, { t: 30, height: 7, peers: 1 });
    m.samples[1]!.push({ t: 10, height: 5, peers: 1 }, { t: 25, height: 5, peers: 1 }, { t: 40, height: 6, peers: 1 });
    expect(m.allAbove([0, 1], 5, 15)).toBe(40);
    expect(m.allAbove([0, 1], 6, 15)).toBeUndefined();
    expect(m.maxHeight(25)).toBe(6);
  });
});
