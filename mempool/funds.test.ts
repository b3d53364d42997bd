import { describe, expect, it } from 'vitest';
import { ErrorCode, JouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import { fakeSender, fakeTx } from './testing/fake-tx.ts';
import { Mempool } from './mempool.ts';
import type { MempoolMetrics } from './metrics.ts';
import type { AddMeta } from './rules.ts';

/**
 * The funds rule: a sender's pooled txs together (fee + amount each) must fit its balance
 * at the head. Before it, each tx was checked alone, so an account holding 1,000 could
 * pool any number of 975-transfers of which at most one could ever execute.
 */
const LIMITS = { maxTxs: 1000, maxBytes: 1 << 24, maxPerSender: 100, maxNonceGap: 100, replaceBumpPercent: 10 };

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

/** A transfer of `amount` at `fee` from an account holding `balance` (account nonce `accountNonce`). */
function meta(tx: Tx, amount: bigint, balance: bigint, accountNonce = 0): AddMeta {
  return { priority: tx.fee, tier: 'peer_to_peer', accountNonce, balance, cost: tx.fee + amount, now: 0 };
}

function error(f: () => unknown): JouleError | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof JouleError) return e;
    throw e;
  }
  return undefined;
}

describe('the funds rule: pending spend is checked cumulatively', () => {
  it('admits what the balance covers and refuses the rest with MEMPOOL_INSUFFICIENT_FUNDS naming the pending total', () => {
    const { counts, metrics } = counting();
    const m = new Mempool(LIMITS, metrics);
    const first = fakeTx(1, 0, 20n);
    m.add(first, meta(first, 975n, 1000n));
    const second = fakeTx(1, 1, 20n);
    const e = error(() => m.add(second, meta(second, 975n, 1000n)));
    expect(e?.code).toBe(ErrorCode.MEMPOOL_INSUFFICIENT_FUNDS);
    expect(e?.field).toBe('tx.from');
    expect(e?.message).toContain("balance 1000 cannot cover this transaction's 995 (fee and amount) on top of 995 pending");
    expect(m.size).toBe(1);
    expect(m.pendingCost(first.from)).toBe(995n);
    expect(counts.get('rejected:MEMPOOL_INSUFFICIENT_FUNDS')).toBe(1);
    // What is left (5) still buys nothing at fee 20, but exactly the balance is fine.
    const exact = fakeTx(2, 0, 20n);
    m.add(exact, meta(exact, 980n, 1000n));
    m.assertConsistent();
  });

  it('counts gapped txs too, and leaves out the tx a replacement replaces', () => {
    const m = new Mempool(LIMITS);
    const gapped = fakeTx(1, 3, 20n); // behind missing nonces 0..2
    m.add(gapped, meta(gapped, 500n, 1000n));
    const head = fakeTx(1, 0, 20n);
    expect(error(() => m.add(head, meta(head, 500n, 1000n)))?.code).toBe(ErrorCode.MEMPOOL_INSUFFICIENT_FUNDS);
    m.add(head, meta(head, 400n, 1000n)); // 520 + 420 = 940
    // Replacing nonce 0 (cost 420) by one with cost 480 (fee 22 + 458): 520 + 480 = 1000, fits.
    const dearer = fakeTx(1, 0, 22n);
    expect(m.add(dearer, meta(dearer, 458n, 1000n)).replaced).toBe(head);
    const tooDear = fakeTx(1, 0, 30n);
    expect(error(() => m.add(tooDear, meta(tooDear, 451n, 1000n)))?.code).toBe(ErrorCode.MEMPOOL_INSUFFICIENT_FUNDS);
    expect(m.pendingCost(head.from)).toBe(1000n);
    m.assertConsistent();
  });

  it('does not count stale txs (mined already) against the balance', () => {
    const m = new Mempool(LIMITS);
    const t0 = fakeTx(1, 0, 20n);
    m.add(t0, meta(t0, 975n, 1000n));
    // t0 was mined elsewhere: nonce 1, balance 5 + a payment of 100 received meanwhile.
    const t1 = fakeTx(1, 1, 20n);
    expect(m.add(t1, meta(t1, 80n, 105n, 1)).evicted).toEqual([t0]);
    expect(m.pendingCost(t1.from)).toBe(100n);
  });

  it('precheck refuses the same before any signature is verified, and changes nothing', () => {
    const m = new Mempool(LIMITS);
    const t0 = fakeTx(1, 0, 20n);
    m.add(t0, meta(t0, 975n, 1000n));
    const t1 = fakeTx(1, 1, 20n);
    expect(error(() => m.precheck(t1, meta(t1, 975n, 1000n)))?.code).toBe(ErrorCode.MEMPOOL_INSUFFICIENT_FUNDS);
    expect(error(() => m.precheck(t1, meta(t1, 5n, 1020n)))).toBeUndefined(); // 995 + 25
    expect(m.size).toBe(1);
  });

  it('after a block, drops from the tail what the new balance no longer covers (a competing tx spent more)', () => {
    const { counts, metrics } = counting();
    const m = new Mempool(LIMITS, metrics);
    const txs = [0, 1, 2, 3, 4].map((n) => fakeTx(1, n, 20n));
    for (const t of txs) m.add(t, meta(t, 80n, 500n)); // 5 x 100 = 500
    const other = fakeTx(2, 0, 20n);
    m.add(other, meta(other, 80n, 100n));
    // Another node's tx at nonce 0 spent 400: balance 100 left, nonce 1.
    const foreign = fakeTx(1, 0, 20n, { salt: 9 });
    m.removeCommitted([foreign], (from) => (from[3] === 1 ? { nonce: 1, balance: 100n } : { nonce: 0, balance: 100n }));
    expect(m.senderTxs(fakeSender(1)).map((t) => t.nonce)).toEqual([1]);
    expect(m.has(other.hash)).toBe(true);
    expect(counts.get('evicted:unfunded')).toBe(3);
    m.assertConsistent();
  });
});
