import { describe, expect, it } from 'vitest';
import { ErrorCode, JouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import { fakeSender, fakeTx } from './testing/fake-tx.ts';
import { Mempool } from './mempool.ts';
import type { MempoolMetrics } from './metrics.ts';
import type { AddMeta } from './rules.ts';

/**
 * Holding pool space must cost at least what honest users pay to get in. The issue's
 * attack: 40 accounts holding 1,000 each filled a 100,000-tx pool with self-transfers of
 * 975 at fee 20 (at most one per account could ever execute), after which honest txs at
 * fee <= 20 got MEMPOOL_FULL for as long as it was tried. Scaled here to a 2,000-tx pool.
 */
const LIMITS = { maxTxs: 2_000, maxBytes: 1 << 26, maxPerSender: 10_000, maxNonceGap: 10_000, replaceBumpPercent: 10 };
const ATTACKERS = 40;
const HONEST = 1_000;

function meta(tx: Tx, amount: bigint, balance: bigint, accountNonce = 0): AddMeta {
  return { priority: tx.fee, tier: 'peer_to_peer', accountNonce, balance, cost: tx.fee + amount, now: 0 };
}

function tryAdd(m: Mempool, tx: Tx, amount: bigint, balance: bigint, accountNonce = 0): string {
  try {
    m.add(tx, meta(tx, amount, balance, accountNonce));
    return 'admitted';
  } catch (e) {
    if (e instanceof JouleError) return e.code;
    throw e;
  }
}

function counting() {
  const counts = new Map<string, number>();
  const bump = (k: string, n = 1) => counts.set(k, (counts.get(k) ?? 0) + n);
  const metrics: MempoolMetrics = {
    rejected: (c) => bump(`rejected:${c}`),
    evicted: (r, _tier, n) => bump(`evicted:${r}`, n),
    expired: (r, _tier, n) => bump(`expired:${r}`, n),
    admitted() {},
    included() {},
  };
  return { counts, metrics };
}

describe("the issue's flood, scaled to 40 accounts and a 2,000-tx pool", () => {
  it('975-transfers: each account holds only what its balance covers, and an honest tx at fee 20 gets in', () => {
    const { counts, metrics } = counting();
    const m = new Mempool(LIMITS, metrics);
    let admitted = 0;
    for (let a = 0; a < ATTACKERS; a++) {
      for (let n = 0; n < LIMITS.maxTxs / ATTACKERS; n++) if (tryAdd(m, fakeTx(a, n, 20n), 975n, 1_000n) === 'admitted') admitted++;
    }
    // Before the fix: 2,000 admitted (the pool full) and the honest tx below MEMPOOL_FULL.
    expect(admitted).toBe(ATTACKERS);
    expect(m.size).toBe(ATTACKERS);
    expect(counts.get('rejected:MEMPOOL_INSUFFICIENT_FUNDS')).toBe(LIMITS.maxTxs - ATTACKERS);
    expect(tryAdd(m, fakeTx(HONEST, 0, 20n), 100n, 1_000_000n)).toBe('admitted');
  });

  it('the cheapest flood that does fit the balances is executable and pays full fees; an honest tx outbidding it by 10% gets in', () => {
    const { counts, metrics } = counting();
    const m = new Mempool({ ...LIMITS, maxTxs: 1_800 }, metrics);
    // Transfers of 1 at fee 20: 47 per account fit 1,000 (47 x 21 = 987); 1,880 in all.
    let admitted = 0;
    for (let a = 0; a < ATTACKERS; a++) for (let n = 0; n < 50; n++) if (tryAdd(m, fakeTx(a, n, 20n), 1n, 1_000n) === 'admitted') admitted++;
    expect(admitted).toBe(1_800);
    // Same fee as the flood: no better than what holds the space.
    expect(tryAdd(m, fakeTx(HONEST, 0, 20n), 100n, 1_000_000n)).toBe(ErrorCode.MEMPOOL_FULL);
    expect(tryAdd(m, fakeTx(HONEST, 0, 21n), 100n, 1_000_000n)).toBe(ErrorCode.MEMPOOL_FULL); // below the 10% bump
    expect(tryAdd(m, fakeTx(HONEST, 0, 22n), 100n, 1_000_000n)).toBe('admitted');
    expect(counts.get('evicted:outbid')).toBe(1);
    // And every tx holding the space is executable: the next blocks take them all, fees paid.
    const block = m.select({ maxTxs: 10_000, maxBytes: 1 << 30 }, () => 0);
    expect(block).toHaveLength(1_800);
    expect(block.reduce((s, t) => s + t.fee, 0n)).toBe(1_799n * 20n + 22n);
    m.assertConsistent();
  });

  it('a flood of gapped txs (which never execute) gives way to any executable tx, however cheap, and never evicts one', () => {
    const { counts, metrics } = counting();
    const m = new Mempool({ ...LIMITS, maxTxs: 100, maxGappedPerSender: 64 }, metrics);
    // Nonces 1.. with nonce 0 withheld, at a high fee: 64 per account at most.
    let admitted = 0;
    for (let a = 0; a < 4; a++) for (let n = 1; n <= 70; n++) if (tryAdd(m, fakeTx(a, n, 1_000n), 1n, 1_000_000n) === 'admitted') admitted++;
    expect(admitted).toBe(100); // 64 + 36, then full
    expect(counts.get('rejected:MEMPOOL_SENDER_LIMIT')).toBe(6);
    expect(tryAdd(m, fakeTx(HONEST, 0, 10n), 1n, 1_000_000n)).toBe('admitted');
    expect(counts.get('evicted:gapped')).toBe(1);
    // A gapped newcomer outbids gapped txs by floor, and never an executable one.
    const ready = new Mempool({ ...LIMITS, maxTxs: 2 });
    expect(tryAdd(ready, fakeTx(1, 0, 10n), 1n, 1_000n)).toBe('admitted');
    expect(tryAdd(ready, fakeTx(2, 0, 10n), 1n, 1_000n)).toBe('admitted');
    expect(tryAdd(ready, fakeTx(3, 1, 1_000n), 1n, 1_000_000n)).toBe(ErrorCode.MEMPOOL_FULL);
    m.assertConsistent();
  });
});

describe('eviction rules', () => {
  it('evicts only for a newcomer paying strictly more, by at least replaceBumpPercent', () => {
    const m = new Mempool({ ...LIMITS, maxTxs: 2, replaceBumpPercent: 20 });
    expect(tryAdd(m, fakeTx(1, 0, 10n), 1n, 1_000n)).toBe('admitted');
    expect(tryAdd(m, fakeTx(2, 0, 10n), 1n, 1_000n)).toBe('admitted');
    expect(tryAdd(m, fakeTx(3, 0, 10n), 1n, 1_000n)).toBe(ErrorCode.MEMPOOL_FULL);
    expect(tryAdd(m, fakeTx(3, 0, 11n), 1n, 1_000n)).toBe(ErrorCode.MEMPOOL_FULL);
    expect(tryAdd(m, fakeTx(3, 0, 12n), 1n, 1_000n)).toBe('admitted');
    // The newer of the two equal ones left (first come, first served).
    expect(m.has(fakeTx(1, 0, 10n).hash)).toBe(true);
    const zero = new Mempool({ ...LIMITS, maxTxs: 1, replaceBumpPercent: 0 });
    expect(tryAdd(zero, fakeTx(1, 0, 10n), 1n, 1_000n)).toBe('admitted');
    expect(tryAdd(zero, fakeTx(2, 0, 10n), 1n, 1_000n)).toBe(ErrorCode.MEMPOOL_FULL); // equal is never enough
  });

  it("evicts a sender's txs from its tail, so no tx is left behind without the one it depends on", () => {
    const m = new Mempool({ ...LIMITS, maxTxs: 4 });
    for (const [n, fee] of [
      [0, 10n],
      [1, 1_000n],
      [2, 1_000n],
    ] as const)
      tryAdd(m, fakeTx(1, n, fee), 1n, 1_000_000n);
    tryAdd(m, fakeTx(2, 0, 50n), 1n, 1_000n);
    const left: string[] = [];
    for (let s = 3; s < 6; s++) {
      tryAdd(m, fakeTx(s, 0, 40n), 1n, 1_000n);
      left.push(
        m
          .senderTxs(fakeSender(1))
          .map((t) => t.nonce)
          .join(','),
      );
    }
    // 1:2 and 1:1 pay 1,000 but are worth 10 (their floor): they go first, then 1:0.
    expect(left).toEqual(['0,1', '0', '']);
    m.assertConsistent();
  });
});
