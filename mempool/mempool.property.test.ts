import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import { fakeSender, fakeTx } from './testing/fake-tx.ts';
import type { MempoolLimits } from './limits.ts';
import { Mempool } from './mempool.ts';

/**
 * Random sequences of adds, selects, commits, foreign nonce bumps, removals and clock
 * ticks against a small pool with small balances, so that limits, replacement, eviction,
 * the funds rule and expiry are hit constantly. After every step the pool's own indexes
 * must agree, the limits hold, every sender's pooled txs fit its balance together, and
 * `select` must equal a naive O(n^2) reference built only from the public API.
 */
const SENDERS = 5;

type Op =
  | { kind: 'add'; sender: number; offset: number; fee: number; amount: number; priority: number; size: number; salt: number }
  | { kind: 'select'; maxTxs: number; maxBytes: number }
  | { kind: 'commit'; maxTxs: number }
  | { kind: 'foreign'; sender: number; by: number; spent: number }
  | { kind: 'tick'; ms: number }
  | { kind: 'remove'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      sender: fc.integer({ min: 0, max: SENDERS - 1 }),
      offset: fc.integer({ min: -1, max: 7 }),
      fee: fc.integer({ min: 1, max: 60 }),
      amount: fc.integer({ min: 0, max: 200 }),
      priority: fc.integer({ min: 0, max: 20 }),
      size: fc.integer({ min: 40, max: 200 }),
      salt: fc.integer({ min: 0, max: 2 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('select' as const), maxTxs: fc.integer({ min: 0, max: 12 }), maxBytes: fc.integer({ min: 0, max: 1500 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('commit' as const), maxTxs: fc.integer({ min: 0, max: 8 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('foreign' as const),
      sender: fc.integer({ min: 0, max: SENDERS - 1 }),
      by: fc.integer({ min: 1, max: 3 }),
      spent: fc.integer({ min: 0, max: 300 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
);

const limitsArb: fc.Arbitrary<MempoolLimits> = fc.record({
  maxTxs: fc.integer({ min: 1, max: 16 }),
  maxBytes: fc.integer({ min: 200, max: 2000 }),
  maxPerSender: fc.integer({ min: 1, max: 6 }),
  maxNonceGap: fc.integer({ min: 0, max: 6 }),
  replaceBumpPercent: fc.integer({ min: 0, max: 50 }),
  maxGappedPerSender: fc.integer({ min: 0, max: 4 }),
  maxGapAgeMs: fc.integer({ min: 1, max: 60 }),
  maxTxAgeMs: fc.integer({ min: 1, max: 200 }),
});

// Mostly small balances (a few txs' worth), some ample: the funds rule bites and the pool still fills.
const balancesArb = fc.array(fc.oneof(fc.integer({ min: 0, max: 1500 }), fc.integer({ min: 1500, max: 20_000 })), { minLength: SENDERS, maxLength: SENDERS });

interface Held {
  nonce: number;
  p: bigint;
}

/** Lowest priority among the held txs up to `nonce`: the floor the pool must rank it by. */
function floorOf(held: Held[], nonce: number): bigint {
  let f: bigint | undefined;
  for (const h of held) if (h.nonce <= nonce && (f === undefined || h.p < f)) f = h.p;
  return f!;
}

/** Whether some nonce in [base, nonce] is missing from `held`: the tx waits behind a gap. */
function gappedIn(held: Held[], nonce: number, base: number): boolean {
  return held.filter((h) => h.nonce >= base && h.nonce <= nonce).length !== nonce - base + 1;
}

/** Reference select: at each step scan every sender's next executable tx and take the best. */
function naiveSelect(m: Mempool, maxTxs: number, maxBytes: number, acct: (f: Uint8Array) => number): Tx[] {
  const chains = new Map<string, Tx[]>();
  for (const tx of m.txs()) {
    const k = toHex(tx.from);
    if (!chains.has(k)) chains.set(k, m.senderTxs(tx.from));
  }
  const next = new Map<string, number>();
  for (const [k, txs] of chains) next.set(k, acct(txs[0]!.from));
  const out: Tx[] = [];
  let bytes = 0;
  while (out.length < maxTxs) {
    let best: { k: string; tx: Tx; p: bigint; seq: number } | undefined;
    for (const [k, txs] of chains) {
      const tx = txs.find((t) => t.nonce === next.get(k));
      if (tx === undefined) continue;
      const { priority: p, seq } = m.meta(tx.hash)!;
      if (best === undefined || p > best.p || (p === best.p && seq < best.seq)) best = { k, tx, p, seq };
    }
    if (best === undefined) break;
    if (bytes + best.tx.bytes.length > maxBytes) {
      chains.delete(best.k); // this sender cannot go on
      continue;
    }
    out.push(best.tx);
    bytes += best.tx.bytes.length;
    next.set(best.k, best.tx.nonce + 1);
  }
  return out;
}

function checkInvariants(m: Mempool, limits: MempoolLimits, acct: (f: Uint8Array) => number): void {
  m.assertConsistent();
  const all = [...m.txs()];
  expect(m.size).toBe(all.length);
  expect(m.bytes).toBe(all.reduce((s, t) => s + t.bytes.length, 0));
  expect(m.size).toBeLessThanOrEqual(limits.maxTxs);
  expect(m.bytes).toBeLessThanOrEqual(limits.maxBytes);
  const perSender = new Map<string, number>();
  for (const t of all) perSender.set(toHex(t.from), (perSender.get(toHex(t.from)) ?? 0) + 1);
  for (const n of perSender.values()) expect(n).toBeLessThanOrEqual(limits.maxPerSender);
  // Whatever select returns, each sender's part is consecutive from its account nonce.
  const sel = m.select({ maxTxs: 1000, maxBytes: 1e9 }, acct);
  expect(sel).toEqual(naiveSelect(m, 1000, 1e9, acct));
  const seen = new Map<string, number>();
  for (const t of sel) {
    const k = toHex(t.from);
    expect(t.nonce).toBe(seen.get(k) ?? acct(t.from));
    seen.set(k, t.nonce + 1);
  }
}

describe('Mempool properties', () => {
  it('keeps its invariants under any sequence of operations', () => {
    let evictions = 0;
    let unfunded = 0;
    let expired = 0;
    fc.assert(
      fc.property(limitsArb, balancesArb, fc.array(opArb, { minLength: 30, maxLength: 150 }), (limits, initialBalances, ops) => {
        const m = new Mempool(limits);
        const nonce = new Array<number>(SENDERS).fill(0);
        const balance = initialBalances.map(BigInt);
        const acct = (from: Uint8Array) => nonce[from[3]!]!;
        const account = (from: Uint8Array) => ({ nonce: nonce[from[3]!]!, balance: balance[from[3]!]! });
        let foreignSalt = 1000;
        let now = 0;
        const priorityOf = new Map<string, bigint>();
        const costOf = new Map<string, bigint>();
        const admittedAt = new Map<string, number>();
        const held = (sender: number): Held[] => m.senderTxs(fakeSender(sender)).map((t) => ({ nonce: t.nonce, p: priorityOf.get(toHex(t.hash))! }));
        for (const op of ops) {
          if (op.kind === 'add') {
            const n = nonce[op.sender]! + op.offset;
            if (n < 0) continue;
            const tx = fakeTx(op.sender, n, BigInt(op.fee), { size: op.size, salt: op.salt });
            const priority = BigInt(op.priority);
            const cost = tx.fee + BigInt(op.amount);
            const before = new Set([...m.txs()].map((t) => toHex(t.hash)));
            // Each sender's chain as the newcomer finds it once in (replacing its nonce).
            const after = Array.from({ length: SENDERS }, (_, s) => held(s));
            const mine = after[op.sender]!.filter((h) => h.nonce !== n);
            mine.push({ nonce: n, p: priority });
            after[op.sender] = mine;
            const newFloor = floorOf(mine, n);
            const newReady = !gappedIn(mine, n, nonce[op.sender]!);
            const wasPresent = m.has(tx.hash);
            const addMeta = { priority, tier: 'peer_to_peer' as const, accountNonce: nonce[op.sender]!, balance: balance[op.sender]!, cost, now };
            // What precheck refuses, add refuses with the same code (precheck may let through more).
            let prechecked: string | undefined;
            try {
              m.precheck(tx, addMeta);
            } catch (e) {
              if (!(e instanceof JouleError)) throw e;
              prechecked = e.code;
            }
            expect(new Set([...m.txs()].map((t) => toHex(t.hash)))).toEqual(before);
            try {
              const r = m.add(tx, addMeta);
              expect(prechecked).toBeUndefined();
              expect(wasPresent).toBe(false);
              expect(op.offset).toBeGreaterThanOrEqual(0);
              expect(op.offset).toBeLessThanOrEqual(limits.maxNonceGap);
              expect(m.get(tx.hash)).toBe(tx);
              // Evictions take chain tails (nothing of that sender remains above them): gapped
              // ones for an executable newcomer, else only ones whose floor is strictly lower
              // than the newcomer's; a gapped newcomer never evicts an executable tx.
              for (const e of r.evicted) {
                expect(m.has(e.hash)).toBe(false);
                if (e.nonce < acct(e.from)) continue; // stale, pruned
                for (const t of m.senderTxs(e.from)) expect(t.nonce).toBeLessThan(e.nonce);
                const list = after[e.from[3]!]!;
                const gapped = gappedIn(list, e.nonce, acct(e.from));
                if (!newReady) expect(gapped).toBe(true);
                if (!(gapped && newReady)) expect(floorOf(list, e.nonce)).toBeLessThan(newFloor);
                evictions++;
              }
              priorityOf.set(toHex(tx.hash), priority);
              costOf.set(toHex(tx.hash), cost);
              admittedAt.set(toHex(tx.hash), now);
              if (r.replaced !== undefined) {
                expect(r.replaced.nonce).toBe(n);
                expect(tx.fee * 100n >= r.replaced.fee * BigInt(100 + limits.replaceBumpPercent)).toBe(true);
              }
            } catch (e) {
              if (!(e instanceof JouleError)) throw e;
              if (prechecked !== undefined) expect(e.code).toBe(prechecked);
              if (wasPresent) expect(e.code).toBe(ErrorCode.MEMPOOL_DUPLICATE);
              else if (op.offset < 0) expect(e.code).toBe(ErrorCode.TX_NONCE_TOO_LOW);
              else if (op.offset > limits.maxNonceGap) expect(e.code).toBe(ErrorCode.TX_NONCE_TOO_HIGH);
              else {
                expect([ErrorCode.MEMPOOL_UNDERPRICED, ErrorCode.MEMPOOL_SENDER_LIMIT, ErrorCode.MEMPOOL_FULL, ErrorCode.MEMPOOL_INSUFFICIENT_FUNDS]).toContain(
                  e.code,
                );
              }
              // A failed add changes nothing (stale txs of the sender aside: none exist here,
              // since commits and foreign bumps prune the senders they move).
              expect(new Set([...m.txs()].map((t) => toHex(t.hash)))).toEqual(before);
            }
          } else if (op.kind === 'select') {
            const got = m.select({ maxTxs: op.maxTxs, maxBytes: op.maxBytes }, acct);
            expect(got).toEqual(naiveSelect(m, op.maxTxs, op.maxBytes, acct));
            expect(got.length).toBeLessThanOrEqual(op.maxTxs);
            expect(got.reduce((s, t) => s + t.bytes.length, 0)).toBeLessThanOrEqual(op.maxBytes);
          } else if (op.kind === 'commit') {
            const block = m.select({ maxTxs: op.maxTxs, maxBytes: 1e9 }, acct);
            for (const t of block) {
              nonce[t.from[3]!] = t.nonce + 1;
              balance[t.from[3]!] -= costOf.get(toHex(t.hash))!; // the pool admitted it only if covered
            }
            m.removeCommitted(block, account);
            for (const t of block) expect(m.has(t.hash)).toBe(false);
            for (const t of m.txs()) expect(t.nonce).toBeGreaterThanOrEqual(acct(t.from));
          } else if (op.kind === 'foreign') {
            // A tx we never saw was included: the sender's nonce moves on without us, and it
            // may have spent more than ours would have.
            const foreign = fakeTx(fakeSender(op.sender), nonce[op.sender]!, 1n, { salt: foreignSalt++ });
            nonce[op.sender] += op.by;
            const spent = BigInt(op.spent) < balance[op.sender]! ? BigInt(op.spent) : balance[op.sender]!;
            balance[op.sender] -= spent;
            const size = m.size;
            m.removeCommitted([foreign], account);
            for (const t of m.senderTxs(foreign.from)) expect(t.nonce).toBeGreaterThanOrEqual(nonce[op.sender]!);
            if (spent > 0n) unfunded += size - m.size;
          } else if (op.kind === 'tick') {
            now += op.ms;
            expired += m.expire(now).length;
            for (const t of m.txs()) expect(now - admittedAt.get(toHex(t.hash))!).toBeLessThan(limits.maxTxAgeMs!);
          } else {
            const all = [...m.txs()];
            if (all.length === 0) continue;
            const victim = all[op.pick % all.length]!;
            const size = m.size;
            expect(m.remove(victim.hash)).toBe(true);
            expect(m.size).toBe(size - 1);
          }
          checkInvariants(m, limits, acct);
          // Every sender's pooled txs together fit its balance.
          for (let s = 0; s < SENDERS; s++) {
            const pending = m.senderTxs(fakeSender(s)).reduce((sum, t) => sum + costOf.get(toHex(t.hash))!, 0n);
            expect(pending).toBeLessThanOrEqual(balance[s]!);
            expect(m.pendingCost(fakeSender(s))).toBe(pending);
          }
        }
      }),
      { numRuns: 300 },
    );
    // The generator really does fill the pool, lower balances and let time pass.
    // (Typical runs: 120-170 evictions, 80-110 unfunded, 300-450 expired.)
    expect(evictions).toBeGreaterThan(50);
    expect(unfunded).toBeGreaterThan(20);
    expect(expired).toBeGreaterThan(100);
  });
});
