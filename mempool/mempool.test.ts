import { describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import { fakeTx } from './testing/fake-tx.ts';
import type { MempoolLimits } from './limits.ts';
import { Mempool } from './mempool.ts';
import type { AddMeta } from './rules.ts';

const LIMITS: MempoolLimits = { maxTxs: 100, maxBytes: 1_000_000, maxPerSender: 10, maxNonceGap: 20, replaceBumpPercent: 10, maxGappedPerSender: 10 };
const RICH = 10n ** 18n;

function pool(over: Partial<MempoolLimits> = {}): Mempool {
  return new Mempool({ ...LIMITS, ...over });
}

/** Priority = fee unless given; tier fixed; account nonce 0 unless given; a sender rich enough for anything; cost = fee; time 0. */
function meta(tx: Tx, accountNonce = 0, priority = tx.fee): AddMeta {
  return { priority, tier: 'peer_to_peer', accountNonce, balance: RICH, cost: tx.fee, now: 0 };
}

const rich = (nonce: (from: Uint8Array) => number) => (from: Uint8Array) => ({ nonce: nonce(from), balance: RICH });

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof JouleError) return e.code;
    throw e;
  }
  return undefined;
}

const zero = () => 0;
const nonces = (txs: Tx[]) => txs.map((t) => `${t.from[3]}:${t.nonce}`);

describe('Mempool.add rejections', () => {
  it('rejects a duplicate hash', () => {
    const m = pool();
    const t = fakeTx(1, 0, 10n);
    m.add(t, meta(t));
    expect(code(() => m.add(t, meta(t)))).toBe(ErrorCode.MEMPOOL_DUPLICATE);
    expect(m.size).toBe(1);
  });

  it('rejects a nonce below the account nonce and one beyond the gap', () => {
    const m = pool();
    const low = fakeTx(1, 4, 10n);
    expect(code(() => m.add(low, meta(low, 5)))).toBe(ErrorCode.TX_NONCE_TOO_LOW);
    const edge = fakeTx(1, 25, 10n);
    expect(code(() => m.add(edge, meta(edge, 5)))).toBeUndefined(); // 5 + 20 exactly
    const high = fakeTx(1, 26, 10n);
    expect(code(() => m.add(high, meta(high, 5)))).toBe(ErrorCode.TX_NONCE_TOO_HIGH);
  });

  it('enforces the per-sender cap, but a replacement at the cap is fine', () => {
    const m = pool({ maxPerSender: 3 });
    for (let n = 0; n < 3; n++) m.add(fakeTx(1, n, 10n), meta(fakeTx(1, n, 10n)));
    const fourth = fakeTx(1, 3, 10n);
    expect(code(() => m.add(fourth, meta(fourth)))).toBe(ErrorCode.MEMPOOL_SENDER_LIMIT);
    const repl = fakeTx(1, 1, 11n);
    expect(m.add(repl, meta(repl)).replaced?.fee).toBe(10n);
    const other = fakeTx(2, 0, 10n);
    expect(code(() => m.add(other, meta(other)))).toBeUndefined();
  });

  it('rejects a tx larger than the whole pool', () => {
    const m = pool({ maxBytes: 100 });
    const t = fakeTx(1, 0, 10n, { size: 101 });
    expect(code(() => m.add(t, meta(t)))).toBe(ErrorCode.MEMPOOL_FULL);
  });

  it('rejects bad limits', () => {
    expect(code(() => pool({ maxTxs: 0 }))).toBe(ErrorCode.CONFIG_INVALID);
    expect(code(() => pool({ replaceBumpPercent: -1 }))).toBe(ErrorCode.CONFIG_INVALID);
    expect(code(() => pool({ maxBytes: 1.5 }))).toBe(ErrorCode.CONFIG_INVALID);
  });
});

describe('replacement by fee bump', () => {
  it('accepts exactly the threshold and rejects one below (10% of 100 -> 110)', () => {
    const m = pool();
    const old = fakeTx(1, 0, 100n);
    m.add(old, meta(old));
    const under = fakeTx(1, 0, 109n);
    expect(code(() => m.add(under, meta(under)))).toBe(ErrorCode.MEMPOOL_UNDERPRICED);
    expect(m.get(old.hash)).toBe(old);
    const exact = fakeTx(1, 0, 110n);
    const r = m.add(exact, meta(exact));
    expect(r.replaced).toBe(old);
    expect(m.has(old.hash)).toBe(false);
    expect(m.get(exact.hash)).toBe(exact);
    expect(m.size).toBe(1);
  });

  it('rounds the threshold up (15 * 1.10 = 16.5 -> 17)', () => {
    const m = pool();
    const old = fakeTx(1, 0, 15n);
    m.add(old, meta(old));
    const t16 = fakeTx(1, 0, 16n);
    expect(code(() => m.add(t16, meta(t16)))).toBe(ErrorCode.MEMPOOL_UNDERPRICED);
    const t17 = fakeTx(1, 0, 17n);
    expect(m.add(t17, meta(t17)).replaced).toBe(old);
  });

  it('keeps byte accounting exact when the replacement has another size', () => {
    const m = pool();
    m.add(fakeTx(1, 0, 10n, { size: 100 }), meta(fakeTx(1, 0, 10n)));
    m.add(fakeTx(1, 0, 20n, { size: 300 }), meta(fakeTx(1, 0, 20n)));
    expect(m.bytes).toBe(300);
    m.assertConsistent();
  });
});

describe('eviction when full', () => {
  it('evicts the tail with the lowest floor: an expensive tx cannot shield the cheap one it waits for', () => {
    const m = pool({ maxTxs: 4 });
    // Sender 1: low priority head, high priority tail. Sender 2: medium.
    m.add(fakeTx(1, 0, 1n), meta(fakeTx(1, 0, 1n)));
    m.add(fakeTx(1, 1, 100n), meta(fakeTx(1, 1, 100n)));
    m.add(fakeTx(2, 0, 50n), meta(fakeTx(2, 0, 50n)));
    m.add(fakeTx(2, 1, 40n), meta(fakeTx(2, 1, 40n)));
    const t = fakeTx(3, 0, 45n);
    const r = m.add(t, meta(t));
    // Candidates are tails only, never opening a gap: 1:1 and 2:1. 1:1 pays 100 but cannot
    // be mined before 1:0 (priority 1): its floor is 1, the lowest, so it goes first (the old
    // rule ranked tails by their own priority and evicted 2:1).
    expect(nonces(r.evicted)).toEqual(['1:1']);
    expect(m.size).toBe(4);
    m.assertConsistent();
    // Next, 1:0 itself (floor 1) goes before anything of sender 2.
    const u = fakeTx(4, 0, 45n);
    expect(nonces(m.add(u, meta(u)).evicted)).toEqual(['1:0']);
    m.assertConsistent();
  });

  it('rejects a newcomer that ranks no higher than every tail, leaving the pool unchanged', () => {
    const m = pool({ maxTxs: 2 });
    m.add(fakeTx(1, 0, 10n), meta(fakeTx(1, 0, 10n)));
    m.add(fakeTx(2, 0, 10n), meta(fakeTx(2, 0, 10n)));
    const equal = fakeTx(3, 0, 10n);
    expect(code(() => m.add(equal, meta(equal)))).toBe(ErrorCode.MEMPOOL_FULL);
    expect(m.size).toBe(2);
    expect(m.has(equal.hash)).toBe(false);
  });

  it('ranks a newcomer by its floor: behind a cheap predecessor it evicts nothing, behind a dear one it does', () => {
    const m = pool({ maxTxs: 2 });
    m.add(fakeTx(1, 0, 1n), meta(fakeTx(1, 0, 1n)));
    m.add(fakeTx(2, 0, 5n), meta(fakeTx(2, 0, 5n)));
    const t = fakeTx(1, 1, 100n); // waits for 1:0 at priority 1: worth 1, not 100
    expect(code(() => m.add(t, meta(t)))).toBe(ErrorCode.MEMPOOL_FULL);
    expect(m.size).toBe(2);
    m.assertConsistent();
    const n = pool({ maxTxs: 2 });
    n.add(fakeTx(1, 0, 10n), meta(fakeTx(1, 0, 10n)));
    n.add(fakeTx(2, 0, 5n), meta(fakeTx(2, 0, 5n)));
    const u = fakeTx(1, 1, 100n); // floor 10 > 5 * 1.1
    expect(nonces(n.add(u, meta(u)).evicted)).toEqual(['2:0']);
    expect(n.senderTxs(fakeTx(1, 0, 0n).from).map((x) => x.nonce)).toEqual([0, 1]);
    n.assertConsistent();
  });

  it('evicts several small txs for one large one by bytes, and rolls back all of them if it still does not fit', () => {
    const m = pool({ maxBytes: 400 });
    for (let s = 1; s <= 4; s++) m.add(fakeTx(s, 0, BigInt(s), { size: 100 }), meta(fakeTx(s, 0, BigInt(s))));
    const big = fakeTx(9, 0, 3n, { size: 250 }); // would need 3 evictions; only 1:0, 2:0 rank below
    const before = [...m.txs()].map((t) => toHex(t.hash)).sort();
    expect(code(() => m.add(big, meta(big)))).toBe(ErrorCode.MEMPOOL_FULL);
    expect([...m.txs()].map((t) => toHex(t.hash)).sort()).toEqual(before);
    expect(m.bytes).toBe(400);
    m.assertConsistent();
    const big2 = fakeTx(9, 0, 10n, { size: 250 });
    const r = m.add(big2, meta(big2));
    expect(nonces(r.evicted)).toEqual(['1:0', '2:0', '3:0']);
    expect(m.bytes).toBe(350);
    m.assertConsistent();
  });

  it('rolls back a replacement that does not fit, restoring the replaced tx', () => {
    const m = pool({ maxBytes: 200 });
    m.add(fakeTx(1, 0, 10n, { size: 100 }), meta(fakeTx(1, 0, 10n)));
    m.add(fakeTx(2, 0, 50n, { size: 100 }), meta(fakeTx(2, 0, 50n)));
    const repl = fakeTx(1, 0, 20n, { size: 150 });
    expect(code(() => m.add(repl, meta(repl)))).toBe(ErrorCode.MEMPOOL_FULL);
    expect(m.has(fakeTx(1, 0, 10n).hash)).toBe(true);
    expect(m.bytes).toBe(200);
    m.assertConsistent();
  });
});

describe('select', () => {
  it('orders by priority across senders and by nonce within one', () => {
    const m = pool();
    // Sender 1's later tx has the highest priority, but it must wait for 1:0.
    const add = (s: number, n: number, p: bigint) => m.add(fakeTx(s, n, p), meta(fakeTx(s, n, p)));
    add(1, 0, 5n);
    add(1, 1, 100n);
    add(2, 0, 50n);
    add(3, 0, 7n);
    expect(nonces(m.select({ maxTxs: 10, maxBytes: 1e9 }, zero))).toEqual(['2:0', '3:0', '1:0', '1:1']);
  });

  it('breaks equal priority by arrival order', () => {
    const m = pool();
    for (const s of [3, 1, 2]) m.add(fakeTx(s, 0, 10n), meta(fakeTx(s, 0, 10n)));
    expect(nonces(m.select({ maxTxs: 10, maxBytes: 1e9 }, zero))).toEqual(['3:0', '1:0', '2:0']);
  });

  it('does not depend on the order senders were first seen in (map iteration), only on priority and arrival', () => {
    // Pool a: sender 1's chain is created first (by a gapped tx); pool b: sender 2's. The
    // executable heads arrive in the same relative order in both, so both blocks agree.
    const a = pool();
    const b = pool();
    a.add(fakeTx(1, 1, 10n), meta(fakeTx(1, 1, 10n)));
    a.add(fakeTx(2, 0, 10n), meta(fakeTx(2, 0, 10n)));
    a.add(fakeTx(1, 0, 10n), meta(fakeTx(1, 0, 10n)));
    b.add(fakeTx(2, 0, 10n), meta(fakeTx(2, 0, 10n)));
    b.add(fakeTx(1, 1, 10n), meta(fakeTx(1, 1, 10n)));
    b.add(fakeTx(1, 0, 10n), meta(fakeTx(1, 0, 10n)));
    const order = (m: Mempool) => nonces(m.select({ maxTxs: 10, maxBytes: 1e9 }, zero));
    expect(order(a)).toEqual(['2:0', '1:0', '1:1']);
    expect(order(b)).toEqual(order(a));
  });

  it('skips senders with a gap and starts at the account nonce', () => {
    const m = pool();
    m.add(fakeTx(1, 1, 10n), meta(fakeTx(1, 1, 10n))); // gap: nonce 0 missing
    m.add(fakeTx(2, 3, 10n), meta(fakeTx(2, 3, 10n), 3));
    m.add(fakeTx(2, 4, 10n), meta(fakeTx(2, 4, 10n), 3));
    m.add(fakeTx(2, 6, 10n), meta(fakeTx(2, 6, 10n), 3)); // queued behind missing 5
    const acct = (from: Uint8Array) => (from[3] === 2 ? 3 : 0);
    expect(nonces(m.select({ maxTxs: 10, maxBytes: 1e9 }, acct))).toEqual(['2:3', '2:4']);
    m.add(fakeTx(1, 0, 1n), meta(fakeTx(1, 0, 1n)));
    expect(nonces(m.select({ maxTxs: 10, maxBytes: 1e9 }, acct))).toEqual(['2:3', '2:4', '1:0', '1:1']);
  });

  it('respects maxTxs and maxBytes; a sender whose next tx does not fit stops, others go on', () => {
    const m = pool();
    m.add(fakeTx(1, 0, 100n, { size: 100 }), meta(fakeTx(1, 0, 100n)));
    m.add(fakeTx(1, 1, 100n, { size: 500 }), meta(fakeTx(1, 1, 100n)));
    m.add(fakeTx(1, 2, 100n, { size: 10 }), meta(fakeTx(1, 2, 100n)));
    m.add(fakeTx(2, 0, 1n, { size: 100 }), meta(fakeTx(2, 0, 1n)));
    expect(nonces(m.select({ maxTxs: 10, maxBytes: 300 }, zero))).toEqual(['1:0', '2:0']);
    expect(nonces(m.select({ maxTxs: 1, maxBytes: 1e9 }, zero))).toEqual(['1:0']);
    expect(m.select({ maxTxs: 0, maxBytes: 1e9 }, zero)).toEqual([]);
    expect(m.size).toBe(4); // select removes nothing
  });
});

describe('removeCommitted and remove', () => {
  it('drops included txs and anything below the new account nonce, including competing txs', () => {
    const m = pool();
    const a0 = fakeTx(1, 0, 10n);
    const a1 = fakeTx(1, 1, 10n);
    const a2 = fakeTx(1, 2, 10n);
    for (const t of [a0, a1, a2]) m.add(t, meta(t));
    const b0 = fakeTx(2, 0, 10n);
    m.add(b0, meta(b0));
    // The block holds a0 and a different tx of sender 1 at nonce 1 (from another pool),
    // so the account nonce moves to 2 and our a1 is superseded.
    const other1 = fakeTx(1, 1, 99n, { salt: 7 });
    const acct = (from: Uint8Array) => (from[3] === 1 ? 2 : 0);
    m.removeCommitted([a0, other1], rich(acct));
    expect(m.has(a0.hash)).toBe(false);
    expect(m.has(a1.hash)).toBe(false);
    expect(m.has(a2.hash)).toBe(true);
    expect(m.has(b0.hash)).toBe(true);
    expect(m.size).toBe(2);
    m.assertConsistent();
    expect(nonces(m.select({ maxTxs: 10, maxBytes: 1e9 }, acct))).toEqual(['1:2', '2:0']);
  });

  it('remove() leaves later nonces queued behind the gap', () => {
    const m = pool();
    const t0 = fakeTx(1, 0, 10n);
    const t1 = fakeTx(1, 1, 10n);
    m.add(t0, meta(t0));
    m.add(t1, meta(t1));
    expect(m.remove(t0.hash)).toBe(true);
    expect(m.remove(t0.hash)).toBe(false);
    expect(m.select({ maxTxs: 10, maxBytes: 1e9 }, zero)).toEqual([]);
    expect(m.nextNonce(t0.from, 0)).toBe(0);
    expect(m.size).toBe(1);
  });

  it("add prunes the sender's stale txs and reports them as evicted", () => {
    const m = pool();
    const t0 = fakeTx(1, 0, 10n);
    m.add(t0, meta(t0));
    const t1 = fakeTx(1, 1, 10n);
    const r = m.add(t1, meta(t1, 1));
    expect(r.evicted).toEqual([t0]);
    expect(m.size).toBe(1);
  });

  it('reports stats by tier and the next nonce', () => {
    const m = pool();
    m.add(fakeTx(1, 0, 10n), { ...meta(fakeTx(1, 0, 10n)), priority: 20n, tier: 'grid_balancing' });
    m.add(fakeTx(1, 1, 10n), meta(fakeTx(1, 1, 10n)));
    expect(m.stats()).toEqual({
      size: 2,
      bytes: 240,
      senders: 1,
      byTier: { grid_balancing: 1, peer_to_peer: 1 },
      bytesByTier: { grid_balancing: 120, peer_to_peer: 120 },
    });
    expect(m.nextNonce(fakeTx(1, 0, 0n).from, 0)).toBe(2);
    expect(m.meta(fakeTx(1, 0, 10n).hash)?.tier).toBe('grid_balancing');
  });
});
