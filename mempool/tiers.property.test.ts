import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import { fakeTx } from './testing/fake-tx.ts';
import type { MempoolLimits } from './limits.ts';
import { Mempool } from './mempool.ts';
import { levelOf, ranksBelow, TIERS, type Tier } from './tiers.ts';

/**
 * Random adds of every tier (with devices), tiered selects with shares, commits,
 * re-validations and clock ticks against a small pool with tight tier, reserve and device
 * bounds. After every step the pool's indexes agree and every bound holds; every eviction
 * took a chain tail that ranked below the newcomer (a gapped one, or a lower floor by
 * tier then priority) from a tier the rules allow; every select keeps each sender's
 * nonces consecutive and the block's limits, and gives each tier with executable txs at
 * least the share it asked for when that tier had txs left unselected.
 */
const SENDERS = 10;
const LIMITS: MempoolLimits = {
  maxTxs: 14,
  maxBytes: 4_000,
  maxPerSender: 6,
  maxNonceGap: 6,
  replaceBumpPercent: 10,
  maxGappedPerSender: 3,
  maxGapAgeMs: 500,
  maxTxAgeMs: 5_000,
  maxPerDevice: 4,
  tierMaxPercent: { system: 20, grid_balancing: 60, peer_to_peer: 60, carbon_credit: 60 },
  tierReservedPercent: { grid_balancing: 20, peer_to_peer: 20, carbon_credit: 10 },
};
const SHARES = { grid_balancing: 3000, peer_to_peer: 2000, carbon_credit: 1000 };
const RICH = 10n ** 18n;

type Op =
  | { kind: 'add'; sender: number; offset: number; fee: number; tier: number; size: number; device: number }
  | { kind: 'select'; maxTxs: number }
  | { kind: 'commit'; maxTxs: number }
  | { kind: 'revalidate'; pick: number; max: number }
  | { kind: 'tick'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      sender: fc.integer({ min: 0, max: SENDERS - 1 }),
      // From the sender's next nonce: -1 replaces its last, 0 extends its run, more opens a gap.
      offset: fc.constantFrom(-1, 0, 0, 0, 0, 1, 2),
      fee: fc.integer({ min: 1, max: 50 }),
      tier: fc.integer({ min: 0, max: 3 }),
      size: fc.integer({ min: 40, max: 300 }),
      device: fc.integer({ min: -1, max: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('select' as const), maxTxs: fc.integer({ min: 4, max: 12 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('commit' as const), maxTxs: fc.integer({ min: 1, max: 10 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('revalidate' as const), pick: fc.integer({ min: 0, max: 4 }), max: fc.integer({ min: 1, max: 30 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 800 }) }) },
);

const senderOf = (from: Uint8Array) => new DataView(from.buffer, from.byteOffset).getUint32(0);
type Rank = [number, bigint];
const ranks = new Map<Tx, Rank>();
const rankOf = (t: Tx): Rank => ranks.get(t)!;
const floorOf = (rs: Rank[]): Rank => rs.reduce((a, b) => (ranksBelow(b[0], b[1], a[0], a[1]) ? b : a));

describe('tiered mempool under random operations', () => {
  it('keeps its indexes, bounds, eviction rules and tiered selection', () => {
    let evictions = 0;
    let tierShares = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 20, maxLength: 120 }), (ops) => {
        const m = new Mempool(LIMITS);
        const nonce = new Array<number>(SENDERS).fill(0);
        const acct = (from: Uint8Array) => nonce[senderOf(from)]!;
        let now = 0;
        let salt = 0;
        for (const op of ops) {
          if (op.kind === 'add') {
            const tier: Tier = TIERS[op.tier]!;
            const from = fakeTx(op.sender, 0, 0n).from;
            const txNonce = Math.max(nonce[op.sender]!, m.nextNonce(from, nonce[op.sender]!) + op.offset);
            const tx = fakeTx(op.sender, txNonce, BigInt(op.fee), { size: op.size, salt: salt++ });
            const priority = BigInt(op.fee);
            const devices = op.device < 0 ? undefined : [`dev-${op.device}`];
            const chainOf = (sender: number, exceptNonce?: number) =>
              [...m.txs()].filter((t) => senderOf(t.from) === sender && t.nonce !== exceptNonce).sort((a, b) => a.nonce - b.nonce);
            const before = Array.from({ length: SENDERS }, (_, s) => chainOf(s));
            const mine = chainOf(op.sender, tx.nonce);
            const newFloor = floorOf([...mine.filter((t) => t.nonce < tx.nonce).map(rankOf), [levelOf(tier), priority]]);
            const newReady = mine.filter((t) => t.nonce < tx.nonce).length === txNonce - nonce[op.sender]!;
            try {
              const r = m.add(tx, { priority, tier, ...(devices ? { devices } : {}), accountNonce: nonce[op.sender]!, balance: RICH, cost: tx.fee, now });
              ranks.set(tx, [levelOf(tier), priority]);
              for (const e of r.evicted) {
                expect(m.has(e.hash)).toBe(false);
                // A chain tail: nothing of its sender above it remains.
                for (const t of m.txs()) if (senderOf(t.from) === senderOf(e.from)) expect(t.nonce).toBeLessThan(e.nonce);
                const chain = senderOf(e.from) === op.sender ? mine : before[senderOf(e.from)]!;
                const below = chain.filter((t) => t.nonce <= e.nonce);
                const gapped = below.length !== e.nonce - acct(e.from) + 1;
                if (!newReady) expect(gapped).toBe(true);
                // An executable victim ranked below the newcomer by its floor (tier, then priority).
                if (!gapped) {
                  const [vl, vp] = floorOf(below.map(rankOf));
                  expect(ranksBelow(vl, vp, newFloor[0], newFloor[1])).toBe(true);
                }
                evictions++;
              }
            } catch (e) {
              if (!(e instanceof JouleError)) throw e;
            }
          } else if (op.kind === 'select' || op.kind === 'commit') {
            const maxBytes = 1_500;
            const txs = m.select({ maxTxs: op.maxTxs, maxBytes, shares: SHARES }, acct);
            expect(txs.length).toBeLessThanOrEqual(op.maxTxs);
            expect(txs.reduce((s, t) => s + t.bytes.length, 0)).toBeLessThanOrEqual(maxBytes);
            const next = [...nonce];
            for (const t of txs) {
              expect(t.nonce).toBe(next[senderOf(t.from)]);
              next[senderOf(t.from)]!++;
            }
            // A tier with txs executable from the start left out got at least its share's worth of txs, unless
            // the one that ended its share did not fit the share's bytes, or the block was full of
            // bytes; the system tier goes first, so this holds when it left room for the shares.
            const bytesOf = (list: Tx[]) => list.reduce((sum, t) => sum + t.bytes.length, 0);
            const system = txs.filter((t) => m.meta(t.hash)!.tier === 'system');
            const sharesOf = (total: number) => Object.values(SHARES).reduce((sum, bps) => sum + Math.floor((total * bps) / 10_000), 0);
            const roomForShares = system.length <= op.maxTxs - sharesOf(op.maxTxs) && bytesOf(system) <= maxBytes - sharesOf(maxBytes);
            for (const [tier, bps] of Object.entries(SHARES) as [Tier, number][]) {
              const taken = txs.filter((t) => m.meta(t.hash)!.tier === tier);
              const share = Math.floor((op.maxTxs * bps) / 10_000);
              const shareBytes = Math.floor((maxBytes * bps) / 10_000);
              // Heads executable from the start (a sender's later tx of this tier becomes one only once its earlier ones are in).
              const leftHeads = [...m.txs()].filter((t) => !txs.includes(t) && m.meta(t.hash)!.tier === tier && t.nonce === nonce[senderOf(t.from)]);
              if (leftHeads.length > 0 && share > 0 && roomForShares) {
                const sizes = leftHeads.map((t) => t.bytes.length);
                if (taken.length < share) expect(bytesOf(taken) + Math.max(...sizes) > shareBytes || bytesOf(txs) + Math.min(...sizes) > maxBytes).toBe(true);
                tierShares++;
              }
            }
            if (op.kind === 'commit') {
              for (const t of txs) nonce[senderOf(t.from)] = t.nonce + 1;
              m.removeCommitted(txs, (from) => ({ nonce: acct(from), balance: RICH }), now);
              for (const t of m.txs()) expect(t.nonce).toBeGreaterThanOrEqual(acct(t.from));
            }
          } else if (op.kind === 'revalidate') {
            const size = m.size;
            const gone = m.revalidate((tx) => (tx.nonce % 5 === op.pick ? 'STALE' : undefined), { txs: op.max });
            for (const t of gone) expect(t.nonce % 5).toBe(op.pick);
            expect(m.size).toBe(size - gone.length);
          } else {
            now += op.ms;
            m.expire(now);
          }
          m.assertConsistent();
        }
      }),
      { numRuns: 200 },
    );
    expect(evictions).toBeGreaterThan(20);
    expect(tierShares).toBeGreaterThan(5);
  });
});
