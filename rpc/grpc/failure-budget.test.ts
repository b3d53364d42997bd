import { describe, expect, it } from 'vitest';
import { FailureBudget } from './failure-budget.ts';

const limits = { perAddressPerSecond: 1, perAddressBurst: 3, perSecond: 100, burst: 100, maxAddresses: 100 };

describe('FailureBudget', () => {
  it('reserves only as many checks as an address could pay for failing; a success frees its place, a failure is charged', () => {
    const b = new FailureBudget(limits, 0);
    expect([b.reserve('a', 0), b.reserve('a', 0), b.reserve('a', 0), b.reserve('a', 0)]).toEqual([true, true, true, false]);
    b.settle('a', false, 0);
    expect(b.reserve('a', 0)).toBe(true);
    expect(b.exhausted('a', 0)).toBe(false);
    for (let i = 0; i < 3; i++) b.settle('a', true, 0);
    expect(b.exhausted('a', 0)).toBe(true);
    expect(b.reserve('a', 0)).toBe(false);
    // Another address is not held back.
    expect(b.exhausted('b', 0)).toBe(false);
    expect(b.reserve('b', 0)).toBe(true);
    // One token a second: at 1,000 ms one check again, not two.
    expect(b.exhausted('a', 999)).toBe(true);
    expect(b.exhausted('a', 1000)).toBe(false);
    expect([b.reserve('a', 1000), b.reserve('a', 1000)]).toEqual([true, false]);
  });

  it("the node's own budget bounds all addresses together", () => {
    const b = new FailureBudget({ ...limits, burst: 2, perSecond: 1 }, 0);
    expect([b.reserve('a', 0), b.reserve('b', 0), b.reserve('c', 0)]).toEqual([true, true, false]);
    b.settle('a', true, 0);
    b.settle('b', true, 0);
    expect(b.exhausted('never-failed', 0)).toBe(true);
    expect(b.reserve('c', 0)).toBe(false);
    expect(b.exhausted('never-failed', 1000)).toBe(false);
  });

  it('remembers at most maxAddresses, never forgets one with a check in flight, and forgets idle full ones first', () => {
    const b = new FailureBudget({ ...limits, maxAddresses: 2 }, 0);
    expect([b.reserve('a', 0), b.reserve('b', 0)]).toEqual([true, true]);
    expect(b.reserve('c', 0)).toBe(false); // both busy: c waits
    b.settle('a', false, 0); // a idle, its bucket full
    expect(b.reserve('c', 0)).toBe(true);
    expect(b.addresses).toBe(2);
    b.settle('b', true, 0); // b idle but owing; c busy
    expect(b.reserve('d', 0)).toBe(true); // the longest remembered idle one (b) goes
    expect(b.addresses).toBe(2);
    expect(b.exhausted('b', 0)).toBe(false);
  });
});
