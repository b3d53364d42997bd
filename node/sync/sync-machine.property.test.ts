import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SyncConfig } from './sync-machine.ts';
import { SyncSim, type PeerKind, type SimPeer } from './testing/sync-sim.ts';

/**
 * Random sets of lying, silent and honest peers with random ids (so honest peers sort
 * anywhere), random connection orders, random answer delays (so answers arrive in random
 * orders) and random partial answers. Whenever at least one honest peer exists, the honest
 * head is reached within k request timeouts plus one answer delay per block (rule 1-4 of
 * sync-machine.ts), and the simulator's model of the rules records no violation: no peer
 * asked while excluded (rule 2, 3), one request per peer and one block request at a time
 * (rule 6), honest peers never penalised, only forgers banned.
 */
const CFG: SyncConfig = { maxBlocksPerRequest: 16, statusIntervalMs: 1000, requestTimeoutMs: 500, backoffMs: 200, maxBackoffMs: 3200 };
const LIAR_KINDS: readonly PeerKind[] = ['empty', 'silent', 'failing', 'slow', 'forger', 'partial', 'mute'];

const scenarioArb = fc
  .record({
    head: fc.integer({ min: 1, max: 120 }),
    honestPeers: fc.integer({ min: 1, max: 2 }),
    liars: fc.array(fc.record({ kind: fc.constantFrom(...LIAR_KINDS), claim: fc.integer({ min: 0, max: 2000 }), has: fc.nat() }), { maxLength: 6 }),
    ids: fc.uniqueArray(fc.integer({ min: 0, max: 99 }), { minLength: 8, maxLength: 8 }),
    connectOrder: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
    tickMs: fc.constantFrom(10, 50, 100),
    maxDelayMs: fc.integer({ min: 0, max: 100 }),
    partialAnswers: fc.boolean(),
    seed: fc.nat(),
  })
  .map((s) => {
    const peers: SimPeer[] = [];
    for (let i = 0; i < s.honestPeers; i++) peers.push({ id: `p${s.ids[i]}`, kind: 'honest', claim: s.head, has: s.head });
    s.liars.forEach((l, i) => {
      // A partial peer really has a prefix of the chain but claims more than it has.
      const has = l.kind === 'partial' ? l.has % s.head : 0;
      peers.push({ id: `p${s.ids[s.honestPeers + i]}`, kind: l.kind, claim: l.kind === 'partial' ? Math.max(l.claim, has + 1) : l.claim, has });
    });
    // Connection order: sort by a random key (stable on ties).
    const order = peers
      .map((p, i) => ({ p, key: s.connectOrder[i]! }))
      .sort((a, b) => a.key - b.key)
      .map((x) => x.p);
    return { ...s, peers: order };
  });

describe('SyncMachine (property)', () => {
  it('rules 1-6: with at least one honest peer, any mix of liars is overcome within k timeouts plus the transfers, and no rule is ever broken', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const sim = new SyncSim(CFG, s.peers, { tickMs: s.tickMs, maxDelayMs: s.maxDelayMs, seed: s.seed, partialAnswers: s.partialAnswers });
        for (const p of s.peers) sim.connect(p.id);
        const k = s.liars.length;
        const bound = s.maxDelayMs + k * (CFG.requestTimeoutMs + s.tickMs + s.maxDelayMs) + s.head * (s.maxDelayMs + 1) + s.tickMs;
        const reached = sim.runUntil(() => sim.height >= s.head, bound);
        expect(sim.violations).toEqual([]);
        expect(reached, `height ${sim.height} of ${s.head} after ${bound} ms`).toBe(true);
        // Keep running well past every backoff: liars keep being retried, rules still hold.
        sim.runUntil(() => false, bound + 20_000);
        expect(sim.violations).toEqual([]);
        expect(sim.height).toBe(s.head);
        expect(sim.maxActionsPerStep).toBeLessThanOrEqual(s.peers.length + 1);
      }),
      { numRuns: 300 },
    );
  });
});
