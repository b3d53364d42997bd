import { describe, expect, it } from 'vitest';
import { ErrorCode, type JouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import { fakeSender, fakeTx } from './testing/fake-tx.ts';
import { Mempool } from './mempool.ts';
import type { MempoolMetrics } from './metrics.ts';
import type { AddMeta } from './rules.ts';

/**
 * Expiry: before, a dropped nonce left the sender's later txs queued for good (9,500 txs
 * stuck for more than 12 minutes on a devnet), and nothing ever left a pool for its age.
 * The pool reads no clock: the caller passes `now`.
 */
const LIMITS = {
  maxTxs: 20_000,
  maxBytes: 1 << 26,
  maxPerSender: 10_000,
  maxNonceGap: 10_000,
  replaceBumpPercent: 10,
  maxGappedPerSender: 10_000,
  maxGapAgeMs: 30_000,
  maxTxAgeMs: 600_000,
};
const T0 = 1_700_000_000_000;

function meta(tx: Tx, now: number, accountNonce = 0): AddMeta {
  return { priority: tx.fee, tier: 'peer_to_peer', accountNonce, balance: 10n ** 18n, cost: tx.fee, now };
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

describe('gap expiry', () => {
  it("a dropped nonce does not strand the sender's later txs: they leave maxGapAgeMs after the gap is first seen", () => {
    const { counts, metrics } = counting();
    const m = new Mempool(LIMITS, metrics);
    const txs = Array.from({ length: 9_500 }, (_, n) => fakeTx(1, n, 20n));
    for (const t of txs) m.add(t, meta(t, T0));
    const bystander = fakeTx(2, 0, 20n);
    m.add(bystander, meta(bystander, T0));
    // The block builder found nonce 0 invalid and dropped it: 9,499 txs wait behind the gap.
    m.remove(txs[0]!.hash);
    expect(m.expire(T0 + 1_000)).toEqual([]); // the gap is seen (and timed) from here
    expect(m.expire(T0 + 1_000 + LIMITS.maxGapAgeMs - 1)).toEqual([]);
    const gone = m.expire(T0 + 1_000 + LIMITS.maxGapAgeMs);
    expect(gone).toHaveLength(9_499);
    expect(m.size).toBe(1);
    expect(m.has(bystander.hash)).toBe(true);
    expect(counts.get('expired:gap')).toBe(9_499);
    m.assertConsistent();
  });

  it('times a gap opened at admission from the admission, and forgets it once the gap is filled', () => {
    const m = new Mempool(LIMITS);
    const late = fakeTx(1, 1, 20n); // nonce 0 not there yet
    m.add(late, meta(late, T0));
    const alone = fakeTx(2, 5, 20n); // nonces 0..4 never come
    m.add(alone, meta(alone, T0));
    const filler = fakeTx(1, 0, 20n);
    m.add(filler, meta(filler, T0 + 10));
    expect(m.expire(T0 + LIMITS.maxGapAgeMs).map((t) => `${t.from[3]}:${t.nonce}`)).toEqual(['2:5']);
    expect(m.senderTxs(fakeSender(1)).map((t) => t.nonce)).toEqual([0, 1]);
    m.assertConsistent();
  });

  it("keeps a gap's age when a failed add evicted its chain and put it back", () => {
    const m = new Mempool({ ...LIMITS, maxBytes: 360 });
    const gapped = fakeTx(1, 1, 5n);
    m.add(gapped, meta(gapped, T0));
    for (const s of [2, 3]) m.add(fakeTx(s, 0, 50n), meta(fakeTx(s, 0, 50n), T0));
    // Needs two evictions: the gapped tx goes (any executable tx beats it), then 2:0 does not (50 > 40).
    const big = fakeTx(4, 0, 40n, { size: 240 });
    expect(() => m.add(big, meta(big, T0 + 20_000))).toThrow(/mempool is full/);
    expect(m.has(gapped.hash)).toBe(true);
    m.assertConsistent();
    expect(m.expire(T0 + LIMITS.maxGapAgeMs)).toEqual([gapped]);
  });

  it('caps the txs one sender may hold behind a gap, not its executable ones', () => {
    const m = new Mempool({ ...LIMITS, maxGappedPerSender: 3 });
    for (let n = 0; n < 5; n++) m.add(fakeTx(1, n, 20n), meta(fakeTx(1, n, 20n), T0));
    for (let n = 6; n < 9; n++) m.add(fakeTx(1, n, 20n), meta(fakeTx(1, n, 20n), T0)); // 3 behind missing 5
    let code: string | undefined;
    try {
      m.add(fakeTx(1, 9, 20n), meta(fakeTx(1, 9, 20n), T0));
    } catch (e) {
      code = (e as JouleError).code;
      expect((e as JouleError).message).toContain('3 transactions waiting behind the missing nonce 5 (limit 3)');
    }
    expect(code).toBe(ErrorCode.MEMPOOL_SENDER_LIMIT);
    m.add(fakeTx(1, 5, 20n), meta(fakeTx(1, 5, 20n), T0)); // fills the gap: all 9 executable
    m.add(fakeTx(1, 9, 20n), meta(fakeTx(1, 9, 20n), T0));
    expect(m.size).toBe(10);
  });
});

describe('age expiry', () => {
  it('drops a tx maxTxAgeMs after its admission, with its later nonces, and nothing younger of others', () => {
    const { counts, metrics } = counting();
    const m = new Mempool(LIMITS, metrics);
    const old0 = fakeTx(1, 0, 20n);
    m.add(old0, meta(old0, T0));
    const young1 = fakeTx(1, 1, 20n); // younger, but cannot execute without nonce 0
    m.add(young1, meta(young1, T0 + 500_000));
    const other = fakeTx(2, 0, 20n);
    m.add(other, meta(other, T0 + 1));
    expect(m.expire(T0 + LIMITS.maxTxAgeMs - 1)).toEqual([]);
    expect(m.expire(T0 + LIMITS.maxTxAgeMs)).toEqual([old0, young1]);
    expect(m.expire(T0 + LIMITS.maxTxAgeMs + 1)).toEqual([other]);
    expect(m.size).toBe(0);
    expect(counts.get('expired:age')).toBe(3);
    m.assertConsistent();
  });

  it('times a replacement from its own admission', () => {
    const m = new Mempool(LIMITS);
    m.add(fakeTx(1, 0, 20n), meta(fakeTx(1, 0, 20n), T0));
    const repl = fakeTx(1, 0, 30n);
    m.add(repl, meta(repl, T0 + 100_000));
    expect(m.expire(T0 + LIMITS.maxTxAgeMs)).toEqual([]);
    expect(m.expire(T0 + 100_000 + LIMITS.maxTxAgeMs)).toEqual([repl]);
  });
});
