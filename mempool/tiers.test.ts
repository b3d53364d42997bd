import { describe, expect, it } from 'vitest';
import { ErrorCode, JouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import { fakeTx } from './testing/fake-tx.ts';
import type { MempoolLimits } from './limits.ts';
import { Mempool } from './mempool.ts';
import type { MempoolMetrics } from './metrics.ts';
import type { AddMeta } from './rules.ts';
import type { Tier } from './tiers.ts';

const RICH = 10n ** 18n;
const BASE: MempoolLimits = { maxTxs: 100, maxBytes: 1_000_000, maxPerSender: 50, maxNonceGap: 50, replaceBumpPercent: 10 };
const nonceZero = () => 0;

function meta(tx: Tx, tier: Tier, opts: Partial<AddMeta> = {}): AddMeta {
  return { priority: tx.fee, tier, accountNonce: 0, balance: RICH, cost: tx.fee, now: 0, ...opts };
}

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof JouleError) return e.code;
    throw e;
  }
  return undefined;
}

function counting() {
  const counts = new Map<string, number>();
  const bump = (k: string, n = 1) => counts.set(k, (counts.get(k) ?? 0) + n);
  const ages: [Tier, number][] = [];
  const metrics: MempoolMetrics = {
    rejected: (c, t) => bump(`rejected:${t}:${c}`),
    admitted: (t) => bump(`admitted:${t}`),
    evicted: (r, t, n) => bump(`evicted:${t}:${r}`, n),
    expired: (r, t, n) => bump(`expired:${t}:${r}`, n),
    included: (t, age) => ages.push([t, age]),
  };
  return { counts, ages, metrics };
}

/** Sender ids by tier, so a test's txs are told apart by sender. */
const S = { system: 1, grid: 100, p2p: 200, carbon: 300 } as const;

describe('tier order', () => {
  it('blocks take system, then grid_balancing, peer_to_peer, carbon_credit, whatever each pays', () => {
    const m = new Mempool(BASE);
    const carbon = fakeTx(S.carbon, 0, 1_000_000n);
    const p2p = fakeTx(S.p2p, 0, 10_000n);
    const grid = fakeTx(S.grid, 0, 100n);
    const system = fakeTx(S.system, 0, 1n);
    m.add(carbon, meta(carbon, 'carbon_credit'));
    m.add(p2p, meta(p2p, 'peer_to_peer'));
    m.add(grid, meta(grid, 'grid_balancing'));
    m.add(system, meta(system, 'system'));
    expect(m.select({ maxTxs: 10, maxBytes: 1e9 }, nonceZero)).toEqual([system, grid, p2p, carbon]);
    m.assertConsistent();
  });

  it('within a tier: the higher priority first, equal priorities in arrival order', () => {
    const m = new Mempool(BASE);
    const a = fakeTx(S.p2p, 0, 10n);
    const b = fakeTx(S.p2p + 1, 0, 30n);
    const c = fakeTx(S.p2p + 2, 0, 20n);
    const d = fakeTx(S.p2p + 3, 0, 30n);
    for (const tx of [a, b, c, d]) m.add(tx, meta(tx, 'peer_to_peer'));
    expect(m.select({ maxTxs: 10, maxBytes: 1e9 }, nonceZero)).toEqual([b, d, c, a]);
  });

  it("keeps each sender's nonce order across tiers: a grid tx behind the sender's carbon tx waits for it", () => {
    const m = new Mempool(BASE);
    const first = fakeTx(S.carbon, 0, 5n);
    const second = fakeTx(S.carbon, 1, 500n);
    const otherCarbon = fakeTx(S.carbon + 1, 0, 50n);
    const grid = fakeTx(S.grid, 0, 5n);
    m.add(first, meta(first, 'carbon_credit'));
    m.add(second, meta(second, 'grid_balancing'));
    m.add(otherCarbon, meta(otherCarbon, 'carbon_credit'));
    m.add(grid, meta(grid, 'grid_balancing'));
    const block = m.select({ maxTxs: 10, maxBytes: 1e9 }, nonceZero);
    expect(block.indexOf(first)).toBeLessThan(block.indexOf(second));
    // Once its carbon tx is in, the sender's grid tx goes before the carbon tier continues.
    expect(block).toEqual([grid, otherCarbon, first, second]);
  });
});

describe('replacement', () => {
  it('replaces the same sender and nonce only with a fee at least 10 % higher, even into another tier', () => {
    const m = new Mempool(BASE);
    const old = fakeTx(S.p2p, 0, 100n);
    m.add(old, meta(old, 'peer_to_peer'));
    const low = fakeTx(S.p2p, 0, 109n);
    expect(code(() => m.add(low, meta(low, 'peer_to_peer')))).toBe(ErrorCode.MEMPOOL_UNDERPRICED);
    const bump = fakeTx(S.p2p, 0, 110n);
    expect(m.add(bump, meta(bump, 'carbon_credit')).replaced).toBe(old);
    expect(m.has(old.hash)).toBe(false);
    expect(m.stats().byTier).toEqual({ carbon_credit: 1 });
    m.assertConsistent();
  });
});

describe('bounds', () => {
  it('overall count and bytes: a newcomer of the lowest tier into a full pool is refused, naming the pool', () => {
    const byCount = new Mempool({ ...BASE, maxTxs: 3 });
    for (let i = 0; i < 3; i++) byCount.add(fakeTx(S.carbon + i, 0, 100n), meta(fakeTx(S.carbon + i, 0, 100n), 'carbon_credit'));
    const late = fakeTx(S.carbon + 9, 0, 100n);
    expect(() => byCount.add(late, meta(late, 'carbon_credit'))).toThrow(/the mempool is full \(3 txs/);
    const byBytes = new Mempool({ ...BASE, maxBytes: 1000 });
    byBytes.add(fakeTx(S.carbon, 0, 100n, { size: 600 }), meta(fakeTx(S.carbon, 0, 100n, { size: 600 }), 'carbon_credit'));
    const big = fakeTx(S.carbon + 1, 0, 100n, { size: 500 });
    expect(code(() => byBytes.add(big, meta(big, 'carbon_credit')))).toBe(ErrorCode.MEMPOOL_FULL);
    expect(byBytes.bytes).toBe(600);
  });

  it('per tier, by count and by bytes: a full tier refuses its own low newcomers while other tiers still get in', () => {
    const m = new Mempool({ ...BASE, maxTxs: 10, tierMaxPercent: { grid_balancing: 30 } });
    for (let i = 0; i < 3; i++) m.add(fakeTx(S.grid + i, 0, 50n), meta(fakeTx(S.grid + i, 0, 50n), 'grid_balancing'));
    const fourth = fakeTx(S.grid + 3, 0, 50n);
    expect(() => m.add(fourth, meta(fourth, 'grid_balancing'))).toThrow(/the grid_balancing tier is full \(3 txs/);
    // A better-paying grid tx takes the place of the tier's lowest, not another tier's.
    const carbon = fakeTx(S.carbon, 0, 1n);
    m.add(carbon, meta(carbon, 'carbon_credit'));
    const rich = fakeTx(S.grid + 4, 0, 60n);
    expect(m.add(rich, meta(rich, 'grid_balancing')).evicted).toEqual([fakeTx(S.grid + 2, 0, 50n)]);
    expect(m.has(carbon.hash)).toBe(true);
    expect(m.stats().byTier).toEqual({ grid_balancing: 3, carbon_credit: 1 });

    const bytes = new Mempool({ ...BASE, maxBytes: 1000, tierMaxPercent: { peer_to_peer: 50 } });
    bytes.add(fakeTx(S.p2p, 0, 10n, { size: 400 }), meta(fakeTx(S.p2p, 0, 10n, { size: 400 }), 'peer_to_peer'));
    const over = fakeTx(S.p2p + 1, 0, 10n, { size: 200 });
    expect(() => bytes.add(over, meta(over, 'peer_to_peer'))).toThrow(/the peer_to_peer tier is full \(\d+ txs, 500 bytes\)/);
    const other = fakeTx(S.carbon, 0, 10n, { size: 500 });
    bytes.add(other, meta(other, 'carbon_credit'));
    bytes.assertConsistent();
  });

  it('per sender: all pending, and behind a nonce gap', () => {
    const m = new Mempool({ ...BASE, maxPerSender: 2, maxGappedPerSender: 1 });
    m.add(fakeTx(S.p2p, 0, 10n), meta(fakeTx(S.p2p, 0, 10n), 'peer_to_peer'));
    m.add(fakeTx(S.p2p, 1, 10n), meta(fakeTx(S.p2p, 1, 10n), 'grid_balancing'));
    expect(code(() => m.add(fakeTx(S.p2p, 2, 10n), meta(fakeTx(S.p2p, 2, 10n), 'system')))).toBe(ErrorCode.MEMPOOL_SENDER_LIMIT);
    m.add(fakeTx(S.carbon, 5, 10n), meta(fakeTx(S.carbon, 5, 10n), 'carbon_credit'));
    expect(code(() => m.add(fakeTx(S.carbon, 7, 10n), meta(fakeTx(S.carbon, 7, 10n), 'carbon_credit')))).toBe(ErrorCode.MEMPOOL_SENDER_LIMIT);
  });

  it('per device: a device named by maxPerDevice pooled txs refuses more, whoever relays them; replacing one frees its count', () => {
    const m = new Mempool({ ...BASE, maxPerDevice: 2 });
    const batch = (sender: number, nonce: number, devices: string[], fee = 10n) => {
      const tx = fakeTx(sender, nonce, fee, { salt: devices.length });
      return { tx, meta: meta(tx, 'grid_balancing', { devices }) };
    };
    const a = batch(S.grid, 0, ['meter-1', 'meter-2']);
    const b = batch(S.grid + 1, 0, ['meter-1']);
    m.add(a.tx, a.meta);
    m.add(b.tx, b.meta);
    const c = batch(S.grid + 2, 0, ['meter-3', 'meter-1']);
    expect(() => m.add(c.tx, c.meta)).toThrow(/device meter-1 already has 2 pending transactions \(limit 2\)/);
    expect(code(() => m.add(c.tx, c.meta))).toBe(ErrorCode.MEMPOOL_DEVICE_LIMIT);
    expect(m.deviceTxs('meter-3')).toBe(0);
    const replacement = batch(S.grid + 1, 0, ['meter-1', 'meter-4'], 20n);
    expect(m.add(replacement.tx, replacement.meta).replaced).toBe(b.tx);
    expect(m.deviceTxs('meter-1')).toBe(2);
    m.remove(a.tx.hash);
    expect(m.deviceTxs('meter-1')).toBe(1);
    expect(m.deviceTxs('meter-2')).toBe(0);
    m.add(c.tx, c.meta);
    m.assertConsistent();
  });
});

describe('eviction order', () => {
  it('a full pool gives up the lowest tier first, its lowest priority first, then the next tier up', () => {
    const { counts, metrics } = counting();
    const m = new Mempool({ ...BASE, maxTxs: 4 }, metrics);
    const carbonLow = fakeTx(S.carbon, 0, 10n);
    const carbonHigh = fakeTx(S.carbon + 1, 0, 900n);
    const p2p = fakeTx(S.p2p, 0, 10n);
    const grid = fakeTx(S.grid, 0, 10n);
    for (const [tx, tier] of [
      [carbonLow, 'carbon_credit'],
      [carbonHigh, 'carbon_credit'],
      [p2p, 'peer_to_peer'],
      [grid, 'grid_balancing'],
    ] as const)
      m.add(tx, meta(tx, tier));
    const evicted: Tx[] = [];
    for (let i = 0; i < 4; i++) {
      const tx = fakeTx(S.system + i, 0, 1n);
      evicted.push(...m.add(tx, meta(tx, 'system')).evicted);
    }
    expect(evicted).toEqual([carbonLow, carbonHigh, p2p, grid]);
    expect(counts.get('evicted:carbon_credit:outbid')).toBe(2);
    expect(counts.get('evicted:grid_balancing:outbid')).toBe(1);
    // Now only system txs: a grid newcomer would be the first to leave, so it is refused.
    const late = fakeTx(S.grid + 1, 0, 10n ** 9n);
    expect(() => m.add(late, meta(late, 'grid_balancing'))).toThrow(/nothing it may evict ranks below this grid_balancing transaction/);
    expect(counts.get('rejected:grid_balancing:MEMPOOL_FULL')).toBe(1);
    m.assertConsistent();
  });

  it('within a tier the newcomer must outrank the lowest by 10 %; across tiers any higher tier wins', () => {
    const m = new Mempool({ ...BASE, maxTxs: 1 });
    const held = fakeTx(S.p2p, 0, 100n);
    m.add(held, meta(held, 'peer_to_peer'));
    const small = fakeTx(S.p2p + 1, 0, 109n);
    expect(code(() => m.add(small, meta(small, 'peer_to_peer')))).toBe(ErrorCode.MEMPOOL_FULL);
    const rich = fakeTx(S.carbon, 0, 10n ** 12n);
    expect(code(() => m.add(rich, meta(rich, 'carbon_credit')))).toBe(ErrorCode.MEMPOOL_FULL);
    const cheapGrid = fakeTx(S.grid, 0, 1n);
    expect(m.add(cheapGrid, meta(cheapGrid, 'grid_balancing')).evicted).toEqual([held]);
  });

  it("a high-tier tail does not shield its sender's cheap lower-tier txs: the chain is ranked by its floor", () => {
    const m = new Mempool({ ...BASE, maxTxs: 3 });
    const cheap = fakeTx(S.carbon, 0, 1n);
    const shield = fakeTx(S.carbon, 1, 10n ** 9n);
    const honest = fakeTx(S.carbon + 1, 0, 50n);
    m.add(cheap, meta(cheap, 'carbon_credit'));
    m.add(shield, meta(shield, 'grid_balancing'));
    m.add(honest, meta(honest, 'carbon_credit'));
    const newcomer = fakeTx(S.carbon + 2, 0, 60n);
    // The shielding chain's floor is carbon_credit at 1: its tail goes first, not the honest tx.
    expect(m.add(newcomer, meta(newcomer, 'carbon_credit')).evicted).toEqual([shield]);
    m.assertConsistent();
  });

  it("a tier within its reserve loses nothing to other tiers' newcomers", () => {
    const m = new Mempool({ ...BASE, maxTxs: 10, tierReservedPercent: { carbon_credit: 20 } });
    const carbon = [0, 1].map((i) => fakeTx(S.carbon + i, 0, 5n));
    for (const tx of carbon) m.add(tx, meta(tx, 'carbon_credit'));
    for (let i = 0; i < 8; i++) m.add(fakeTx(S.p2p + i, 0, 10n), meta(fakeTx(S.p2p + i, 0, 10n), 'peer_to_peer'));
    // Full: grid newcomers evict peer_to_peer (above its reserve of 0), never the 2 reserved carbon txs.
    for (let i = 0; i < 8; i++) {
      const tx = fakeTx(S.grid + i, 0, 10n);
      expect(m.add(tx, meta(tx, 'grid_balancing')).evicted).toHaveLength(1);
    }
    const one = fakeTx(S.grid + 9, 0, 10n);
    expect(() => m.add(one, meta(one, 'grid_balancing'))).toThrow(/the mempool is full/);
    for (const tx of carbon) expect(m.has(tx.hash)).toBe(true);
    // Its own tier's newcomers still compete for it.
    const better = fakeTx(S.carbon + 5, 0, 6n);
    expect(m.add(better, meta(better, 'carbon_credit')).evicted).toHaveLength(1);
    m.assertConsistent();
  });
});

describe('starvation freedom under a flood of the highest tier', () => {
  it('a telemetry flood fills its tier bound, carbon and peer-to-peer txs still get in and into every block at their share', () => {
    const limits: MempoolLimits = {
      ...BASE,
      maxTxs: 2_000,
      maxPerSender: 2_000,
      maxNonceGap: 2_000,
      tierMaxPercent: { system: 10, grid_balancing: 60, peer_to_peer: 60, carbon_credit: 60 },
      tierReservedPercent: { grid_balancing: 30, peer_to_peer: 20, carbon_credit: 10 },
    };
    const m = new Mempool(limits);
    const nonce = new Map<number, number>();
    const accountNonce = (from: Uint8Array) => nonce.get(new DataView(from.buffer).getUint32(0)) ?? 0;
    // The flood: 5,000 grid txs from 50 aggregators, paying 100x what the others pay.
    let floodAdmitted = 0;
    for (let i = 0; i < 5_000; i++) {
      const sender = 10_000 + (i % 50);
      const tx = fakeTx(sender, Math.floor(i / 50), 1_000n);
      if (code(() => m.add(tx, meta(tx, 'grid_balancing'))) === undefined) floodAdmitted++;
    }
    expect(floodAdmitted).toBe(1_200);
    const carbon = Array.from({ length: 100 }, (_, i) => fakeTx(20_000 + i, 0, 10n));
    const p2p = Array.from({ length: 100 }, (_, i) => fakeTx(30_000 + i, 0, 10n));
    for (const tx of carbon) expect(code(() => m.add(tx, meta(tx, 'carbon_credit')))).toBeUndefined();
    for (const tx of p2p) expect(code(() => m.add(tx, meta(tx, 'peer_to_peer')))).toBeUndefined();
    // Blocks of 100 txs: grid takes what is left after carbon's 10 % and p2p's 20 %.
    const shares = { grid_balancing: 3000, peer_to_peer: 2000, carbon_credit: 1000 };
    let carbonMined = 0;
    for (let block = 0; block < 5; block++) {
      const txs = m.select({ maxTxs: 100, maxBytes: 1e9, shares }, accountNonce);
      expect(txs).toHaveLength(100);
      const tierOf = (tx: Tx) => m.meta(tx.hash)!.tier;
      expect(txs.filter((t) => tierOf(t) === 'carbon_credit')).toHaveLength(10);
      expect(txs.filter((t) => tierOf(t) === 'peer_to_peer')).toHaveLength(20);
      expect(txs.filter((t) => tierOf(t) === 'grid_balancing')).toHaveLength(70);
      carbonMined += 10;
      for (const tx of txs) nonce.set(new DataView(tx.from.buffer).getUint32(0), tx.nonce + 1);
      m.removeCommitted(txs, (from) => ({ nonce: accountNonce(from), balance: RICH }));
      m.assertConsistent();
    }
    expect(carbonMined).toBe(50);
  });

  it('unused share flows to the others, and a tier with nothing to send takes none', () => {
    const m = new Mempool(BASE);
    for (let i = 0; i < 40; i++) m.add(fakeTx(S.grid + (i % 50), 0, 10n, { salt: i }), meta(fakeTx(S.grid + (i % 50), 0, 10n, { salt: i }), 'grid_balancing'));
    const two = [fakeTx(S.carbon, 0, 10n), fakeTx(S.carbon + 1, 0, 10n)];
    for (const tx of two) m.add(tx, meta(tx, 'carbon_credit'));
    const txs = m.select({ maxTxs: 20, maxBytes: 1e9, shares: { grid_balancing: 3000, peer_to_peer: 2000, carbon_credit: 5000 } }, nonceZero);
    expect(txs).toHaveLength(20);
    expect(txs.filter((t) => two.includes(t))).toHaveLength(2);
  });

  it('the system tier goes first even before the other tiers take their shares', () => {
    const m = new Mempool(BASE);
    const grid = Array.from({ length: 10 }, (_, i) => fakeTx(S.grid + i, 0, 1_000n));
    for (const tx of grid) m.add(tx, meta(tx, 'grid_balancing'));
    const vote = fakeTx(S.system, 0, 1n);
    m.add(vote, meta(vote, 'system'));
    const txs = m.select({ maxTxs: 5, maxBytes: 1e9, shares: { grid_balancing: 10_000 } }, nonceZero);
    expect(txs[0]).toBe(vote);
    expect(txs).toHaveLength(5);
  });
});

describe('re-validation', () => {
  it('removes what the caller finds invalid against the new head, a bounded number per call, continuing where it stopped', () => {
    const { counts, metrics } = counting();
    const m = new Mempool(BASE, metrics);
    const txs = Array.from({ length: 10 }, (_, i) => fakeTx(S.grid + i, 0, 10n));
    for (const tx of txs) m.add(tx, meta(tx, 'grid_balancing'));
    const stale = new Set([txs[1]!, txs[6]!, txs[8]!]);
    const seen: Tx[] = [];
    const invalid = (tx: Tx) => {
      seen.push(tx);
      return stale.has(tx) ? 'TELEMETRY_STALE' : undefined;
    };
    expect(m.revalidate(invalid, { txs: 4 })).toEqual([txs[1]]);
    expect(seen).toEqual(txs.slice(0, 4));
    expect(m.revalidate(invalid, { txs: 4 })).toEqual([txs[6]]);
    expect(seen.slice(4)).toEqual(txs.slice(4, 8));
    // The round wraps around: the rest, then the start again; never the same tx twice in one call.
    expect(m.revalidate(invalid, { txs: 100 })).toEqual([txs[8]]);
    expect(seen.slice(8)).toEqual([txs[8], txs[9], txs[0], txs[2], txs[3], txs[4], txs[5], txs[7]]);
    expect(m.size).toBe(7);
    expect(counts.get('evicted:grid_balancing:invalid')).toBe(3);
    m.assertConsistent();
  });

  it('stops at its byte budget, so a pool of big txs costs no more per block than one of small ones', () => {
    const m = new Mempool(BASE);
    const txs = Array.from({ length: 6 }, (_, i) => fakeTx(S.grid + i, 0, 10n, { size: 1000 }));
    for (const tx of txs) m.add(tx, meta(tx, 'grid_balancing'));
    const seen: Tx[] = [];
    m.revalidate((tx) => void seen.push(tx), { txs: 100, bytes: 2500 });
    expect(seen).toEqual(txs.slice(0, 3));
    m.revalidate((tx) => void seen.push(tx), { txs: 100, bytes: 1 });
    expect(seen).toEqual(txs.slice(0, 4));
  });

  it("a removed tx leaves its sender's later txs behind a gap, where gap expiry takes them", () => {
    const m = new Mempool({ ...BASE, maxGapAgeMs: 1000 });
    const txs = [0, 1, 2].map((n) => fakeTx(S.grid, n, 10n));
    for (const tx of txs) m.add(tx, meta(tx, 'grid_balancing'));
    m.revalidate((tx) => (tx === txs[0] ? 'DEVICE_REVOKED' : undefined), { txs: 10 });
    expect(m.select({ maxTxs: 10, maxBytes: 1e9 }, nonceZero)).toEqual([]);
    m.expire(0);
    expect(m.expire(1000)).toEqual([txs[1], txs[2]]);
  });
});

describe('per-tier metrics', () => {
  it('counts admissions per tier and, on commit, how long each included tx waited', () => {
    const { counts, ages, metrics } = counting();
    const m = new Mempool(BASE, metrics);
    const grid = fakeTx(S.grid, 0, 10n);
    const carbon = fakeTx(S.carbon, 0, 10n);
    m.add(grid, meta(grid, 'grid_balancing', { now: 1_000 }));
    m.add(carbon, meta(carbon, 'carbon_credit', { now: 4_000 }));
    expect(counts.get('admitted:grid_balancing')).toBe(1);
    expect(counts.get('admitted:carbon_credit')).toBe(1);
    m.removeCommitted([grid, carbon], () => ({ nonce: 1, balance: RICH }), 6_500);
    expect(ages).toEqual([
      ['grid_balancing', 5_500],
      ['carbon_credit', 2_500],
    ]);
  });
});
