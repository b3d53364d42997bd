import { describe, expect, it } from 'vitest';
import { FailureBudget } from './failure-budget.ts';

const limits = { perAddressPerSecond: 1, perAddressBurst: 3, perSecond: 10, burst: 5, maxAddresses: 2 };

describe('FailureBudget', () => {
  it('an address whose failures pass its burst is refused until its bucket refills; other addresses are not', () => {
    const b = new FailureBudget(limits, 0);
    expect(b.allows('a', 0)).toBe(true);
    expect([b.charge('a', 0), b.charge('a', 0), b.charge('a', 0)]).toEqual([true, true, true]);
    expect(b.allows('a', 0)).toBe(false);
    expect(b.charge('a', 0)).toBe(false);
    expect(b.allows('b', 0)).toBe(true);
    // One token a second: 999 ms later still none, at 1,000 ms one.
    expect(b.allows('a', 999)).toBe(false);
    expect(b.allows('a', 1000)).toBe(true);
  });

  it("the node's own budget bounds all addresses together", () => {
    const b = new FailureBudget({ ...limits, maxAddresses: 100 }, 0);
    const results = ['a', 'b', 'c', 'd', 'e', 'f'].map((a) => b.charge(a, 0));
    expect(results).toEqual([true, true, true, true, true, false]);
    expect(b.allows('never-failed', 0)).toBe(false);
    expect(b.allows('never-failed', 100)).toBe(true);
  });

  it('remembers at most maxAddresses: those whose bucket is full again go first, then the longest remembered', () => {
    const b = new FailureBudget({ ...limits, burst: 100, perSecond: 100 }, 0);
    b.charge('a', 0);
    b.charge('b', 2500);
    // At 3,000 ms a's bucket is full again (3 s x 1/s), b's is not: a goes.
    b.charge('c', 3000);
    expect(b.addresses).toBe(2);
    b.charge('b', 3000);
    b.charge('b', 3000);
    expect(b.allows('b', 3000)).toBe(false);
    // Neither b nor c is full: the longest remembered (b) goes, and with it what it owed.
    b.charge('d', 3000);
    expect(b.addresses).toBe(2);
    expect(b.allows('b', 3000)).toBe(true);
    expect(b.allows('c', 3000)).toBe(true);
  });
});
