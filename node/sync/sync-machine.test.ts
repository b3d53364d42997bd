import { describe, expect, it } from 'vitest';
import { SyncMachine, type SyncAction, type SyncConfig } from './sync-machine.ts';
import { SyncSim, type SimPeer } from './testing/sync-sim.ts';

// Each test names the rule of node/sync/sync-machine.ts it checks (issue 6, finding 3).

const CFG: SyncConfig = { maxBlocksPerRequest: 16, statusIntervalMs: 1000, requestTimeoutMs: 500, backoffMs: 200, maxBackoffMs: 3200 };

/** A machine at height `height` that knows each peer's claim (statuses answered at t=0). */
function withClaims(claims: Record<string, number>, height = 0, cfg = CFG): SyncMachine {
  const m = new SyncMachine(cfg);
  m.step({ type: 'tick', now: 0, height });
  for (const peer of Object.keys(claims)) m.step({ type: 'peer-connected', peer, now: 0 });
  return m;
}

/** Answers every status; returns the actions of the last answer (where the pick happens). */
function answerStatuses(m: SyncMachine, claims: Record<string, number>, now = 0): SyncAction[] {
  let last: SyncAction[] = [];
  for (const [peer, height] of Object.entries(claims)) last = m.step({ type: 'status', peer, height, now });
  return last;
}

const blocksRequests = (actions: SyncAction[]) => actions.filter((a) => a.type === 'request-blocks');

describe('SyncMachine', () => {
  it('rule 1+2: a peer claiming 1000 that answers empty forever cannot keep sync from the honest peer at 50', () => {
    const peers: SimPeer[] = [
      { id: 'liar', kind: 'empty', claim: 1000, has: 0 },
      { id: 'honest', kind: 'honest', claim: 50, has: 50 },
    ];
    const sim = new SyncSim(CFG, peers, { tickMs: 100, maxDelayMs: 20, seed: 1 });
    for (const p of peers) sim.connect(p.id);
    expect(sim.runUntil(() => sim.height === 50, 60_000)).toBe(true);
    expect(sim.violations).toEqual([]);
    expect(sim.blockRequests('liar')).toBe(1); // once, then on probation below the peer that serves
    expect(sim.machine.syncing).toBe(false);
  });

  it('rule 1: the first claim above us is asked at once; each next batch goes to the highest claim of those with the fewest failures', () => {
    const m = withClaims({ a: 0, b: 0, c: 0 });
    expect(m.step({ type: 'status', peer: 'a', height: 40, now: 0 })).toEqual([{ type: 'request-blocks', peer: 'a', from: 1, to: 16 }]);
    m.step({ type: 'status', peer: 'b', height: 90, now: 0 });
    m.step({ type: 'status', peer: 'c', height: 60, now: 0 });
    m.step({ type: 'blocks', peer: 'a', from: 1, count: 16, now: 1 });
    expect(m.step({ type: 'imported', peer: 'a', height: 16, now: 2 })).toEqual([{ type: 'request-blocks', peer: 'b', from: 17, to: 32 }]);
    // b fails: on probation, it ranks below c and a (no failures) even once its exclusion ends.
    expect(m.step({ type: 'blocks-failed', peer: 'b', now: 3 })).toEqual([
      { type: 'penalize', peer: 'b', reason: 'failed', ban: false },
      { type: 'request-blocks', peer: 'c', from: 17, to: 32 },
    ]);
  });

  it('rule 1: equal claims go to the lower peer id, independent of the order peers connected and answered', () => {
    for (const order of [
      ['x', 'y', 'z'],
      ['z', 'y', 'x'],
      ['y', 'z', 'x'],
    ]) {
      const m = new SyncMachine(CFG);
      m.step({ type: 'tick', now: 0, height: 0 });
      // Hold the pick back with an outstanding request from a fourth peer, so all claims are known.
      m.step({ type: 'peer-connected', peer: 'busy', now: 0 });
      m.step({ type: 'status', peer: 'busy', height: 5, now: 0 });
      for (const p of order) m.step({ type: 'peer-connected', peer: p, now: 0 });
      for (const p of order) m.step({ type: 'status', peer: p, height: 70, now: 0 });
      expect(blocksRequests(m.step({ type: 'blocks', peer: 'busy', from: 1, count: 0, now: 1 }))).toEqual([
        { type: 'request-blocks', peer: 'x', from: 1, to: 16 },
      ]);
    }
  });

  it('rule 2: a peer that times out is penalised (ban:false) and the next peer is asked at the step that notices', () => {
    const m = withClaims({ a: 0, b: 0 });
    answerStatuses(m, { a: 100, b: 60 });
    // a was asked at t=0 (highest claim); no answer.
    expect(blocksRequests(m.step({ type: 'tick', now: 500, height: 0 }))).toEqual([]); // not older than the timeout yet
    expect(m.step({ type: 'tick', now: 501, height: 0 })).toEqual([
      { type: 'penalize', peer: 'a', reason: 'timeout', ban: false },
      { type: 'request-blocks', peer: 'b', from: 1, to: 16 },
    ]);
    // Its late answer is ignored: nothing is imported from a request already written off.
    expect(m.step({ type: 'blocks', peer: 'a', from: 1, count: 16, now: 502 })).toEqual([]);
  });

  it('rule 3: a peer serving a forged certificate is banned (ban:true) and the next peer is asked in the same step', () => {
    const m = withClaims({ a: 0, b: 0 });
    answerStatuses(m, { a: 100, b: 60 });
    expect(m.step({ type: 'blocks', peer: 'a', from: 1, count: 16, now: 1 })).toEqual([{ type: 'import', peer: 'a' }]);
    expect(m.step({ type: 'import-invalid', peer: 'a', reason: 'CERT_INVALID', height: 3, now: 2 })).toEqual([
      { type: 'penalize', peer: 'a', reason: 'CERT_INVALID', ban: true },
      { type: 'request-blocks', peer: 'b', from: 4, to: 19 },
    ]);
    // Excluded for maxBackoffMs even if p2p's ban did not disconnect it.
    m.step({ type: 'blocks', peer: 'b', from: 4, count: 0, now: 3 });
    expect(m.step({ type: 'tick', now: 3000, height: 3 }).filter((a) => a.peer === 'a')).toEqual([]);
  });

  it('rule 2: the exclusion doubles per consecutive failure, is capped at maxBackoffMs, and expires', () => {
    const m = withClaims({ a: 0 });
    answerStatuses(m, { a: 100 });
    let now = 0;
    const exclusions: number[] = [];
    for (let i = 0; i < 7; i++) {
      const failedAt = now;
      expect(m.step({ type: 'blocks', peer: 'a', from: 1, count: 0, now })).toEqual([{ type: 'penalize', peer: 'a', reason: 'empty', ban: false }]);
      // Find when it is polled again (rule 5: its unbacked claim was dropped), 1 ms resolution.
      for (;;) {
        now++;
        const polled = m.step({ type: 'tick', now, height: 0 });
        if (polled.length === 0) continue;
        expect(polled).toEqual([{ type: 'request-status', peer: 'a' }]);
        break;
      }
      exclusions.push(now - failedAt);
      expect(m.step({ type: 'status', peer: 'a', height: 100, now })).toEqual([{ type: 'request-blocks', peer: 'a', from: 1, to: 16 }]);
    }
    expect(exclusions).toEqual([200, 400, 800, 1600, 3200, 3200, 3200]);
  });

  it('rule 4: a peer that serves has its failure count reset', () => {
    const m = withClaims({ a: 0 });
    answerStatuses(m, { a: 100 });
    m.step({ type: 'blocks', peer: 'a', from: 1, count: 0, now: 0 }); // 1st failure: 200 ms
    m.step({ type: 'tick', now: 200, height: 0 });
    m.step({ type: 'status', peer: 'a', height: 100, now: 200 });
    m.step({ type: 'blocks', peer: 'a', from: 1, count: 0, now: 200 }); // 2nd: 400 ms
    m.step({ type: 'tick', now: 600, height: 0 });
    m.step({ type: 'status', peer: 'a', height: 100, now: 600 });
    m.step({ type: 'blocks', peer: 'a', from: 1, count: 16, now: 601 });
    expect(m.step({ type: 'imported', peer: 'a', height: 16, now: 602 })).toEqual([{ type: 'request-blocks', peer: 'a', from: 17, to: 32 }]);
    m.step({ type: 'blocks-failed', peer: 'a', now: 700 }); // a fresh first failure: 200 ms again
    expect(m.step({ type: 'tick', now: 899, height: 16 })).toEqual([]);
    expect(m.step({ type: 'tick', now: 900, height: 16 })).toEqual([{ type: 'request-status', peer: 'a' }]); // its claim decayed (rule 5)
  });

  it('rule 5: an unbacked claim decays on failure: it no longer counts and the peer is asked again once its exclusion ends', () => {
    const m = withClaims({ a: 0, b: 0 });
    answerStatuses(m, { a: 1000, b: 20 });
    expect(m.target).toBe(1000);
    m.step({ type: 'blocks', peer: 'a', from: 1, count: 0, now: 0 }); // excluded 200 ms, claim dropped
    m.step({ type: 'blocks', peer: 'b', from: 1, count: 16, now: 1 });
    m.step({ type: 'imported', peer: 'b', height: 16, now: 1 }); // b backed 16 of its 20
    // b fails with its claim (20) above what it served (16): dropped too.
    expect(m.step({ type: 'blocks-failed', peer: 'b', now: 2 })).toEqual([{ type: 'penalize', peer: 'b', reason: 'failed', ban: false }]);
    expect(m.step({ type: 'tick', now: 202, height: 16 })).toEqual([
      { type: 'request-status', peer: 'a' },
      { type: 'request-status', peer: 'b' },
    ]);
    expect(m.target).toBeNull();
    expect(m.syncing).toBe(false);
  });

  it('rule 2: served items that do not reach the first height asked for count as a failure (unusable)', () => {
    const m = withClaims({ a: 0, b: 0 });
    answerStatuses(m, { a: 100, b: 50 });
    m.step({ type: 'blocks', peer: 'a', from: 1, count: 3, now: 1 });
    expect(m.step({ type: 'imported', peer: 'a', height: 0, now: 2 })).toEqual([
      { type: 'penalize', peer: 'a', reason: 'unusable', ban: false },
      { type: 'request-blocks', peer: 'b', from: 1, to: 16 },
    ]);
  });

  it('rule 6: disconnect forgets a peer: its request is abandoned, its late answer ignored, a reconnect starts afresh', () => {
    const m = withClaims({ a: 0, b: 0 });
    answerStatuses(m, { a: 100, b: 50 });
    expect(m.step({ type: 'peer-disconnected', peer: 'a', now: 1 })).toEqual([{ type: 'request-blocks', peer: 'b', from: 1, to: 16 }]);
    expect(m.step({ type: 'blocks', peer: 'a', from: 1, count: 16, now: 2 })).toEqual([]);
    expect(m.step({ type: 'status', peer: 'a', height: 100, now: 2 })).toEqual([]);
    m.step({ type: 'peer-disconnected', peer: 'b', now: 3 });
    expect(m.target).toBeNull();
    expect(m.idle).toBe(true);
    expect(m.step({ type: 'peer-connected', peer: 'a', now: 4 })).toEqual([{ type: 'request-status', peer: 'a' }]);
  });

  it('rule 6: statuses are polled every statusIntervalMs, one outstanding per peer, never from an excluded peer', () => {
    const m = withClaims({ a: 0, b: 0 }, 10); // both polled at connect (t=0)
    answerStatuses(m, { a: 10, b: 10 }, 5);
    expect(m.step({ type: 'tick', now: 999, height: 10 })).toEqual([]);
    expect(m.step({ type: 'tick', now: 1000, height: 10 })).toEqual([
      { type: 'request-status', peer: 'a' },
      { type: 'request-status', peer: 'b' },
    ]);
    expect(m.step({ type: 'behind', now: 1001, height: 10 })).toEqual([]); // both outstanding
    m.step({ type: 'status', peer: 'a', height: 30, now: 1002 }); // a asked for blocks
    m.step({ type: 'blocks', peer: 'a', from: 11, count: 0, now: 1003 }); // excluded 200 ms
    m.step({ type: 'status', peer: 'b', height: 10, now: 1004 });
    expect(m.step({ type: 'behind', now: 1005, height: 10 })).toEqual([{ type: 'request-status', peer: 'b' }]);
    // A status left unanswered past the timeout no longer blocks the next poll.
    expect(m.step({ type: 'behind', now: 1506, height: 10 })).toEqual([
      { type: 'request-status', peer: 'a' },
      { type: 'request-status', peer: 'b' },
    ]);
  });

  it('rule 6: while our height rises, peers whose claims we hold are not re-polled; once it stands still for statusIntervalMs, they are', () => {
    const m = withClaims({ a: 0, b: 0 }, 10);
    answerStatuses(m, { a: 10, b: 10 }, 5);
    // Consensus commits a block every 800 ms: no poll, however long that goes on.
    for (let t = 800, h = 11; t <= 8000; t += 800, h++) expect(m.step({ type: 'tick', now: t, height: h })).toEqual([]);
    // The last rise was at 8000 (height 20); at 8999 it is not yet due, at 9000 it is.
    expect(m.step({ type: 'tick', now: 8999, height: 20 })).toEqual([]);
    expect(m.step({ type: 'tick', now: 9000, height: 20 })).toEqual([
      { type: 'request-status', peer: 'a' },
      { type: 'request-status', peer: 'b' },
    ]);
    // `behind` still polls at once (a: answered; b: still outstanding).
    m.step({ type: 'status', peer: 'a', height: 20, now: 9001 });
    expect(m.step({ type: 'behind', now: 9002, height: 21 })).toEqual([{ type: 'request-status', peer: 'a' }]);
  });

  it('rule 6: with only liars there is no busy loop: block requests per liar grow with the log of the time, not with the ticks', () => {
    const liars: SimPeer[] = ['l1', 'l2', 'l3', 'l4', 'l5'].map((id, i) => ({
      id,
      kind: (['empty', 'silent', 'failing', 'slow', 'partial'] as const)[i]!,
      claim: 1000,
      has: 0,
    }));
    const sim = new SyncSim(CFG, liars, { tickMs: 10, maxDelayMs: 5, seed: 7 });
    for (const p of liars) sim.connect(p.id);
    const horizon = 60_000;
    sim.runUntil(() => false, horizon);
    expect(sim.violations).toEqual([]);
    // Exclusions 200, 400, ..., 3200 then every 3200 ms (plus a timeout or a poll between tries).
    const bound = 1 + Math.log2(CFG.maxBackoffMs / CFG.backoffMs) + horizon / CFG.maxBackoffMs;
    for (const p of liars) {
      expect(sim.blockRequests(p.id)).toBeGreaterThan(1);
      expect(sim.blockRequests(p.id)).toBeLessThanOrEqual(bound);
    }
    expect(sim.maxActionsPerStep).toBeLessThanOrEqual(liars.length + 1);
    expect(sim.height).toBe(0);
  });

  it('progress: with k silent liars claiming more and one honest peer, the honest head is reached within k request timeouts plus the transfers', () => {
    for (const k of [1, 3, 6]) {
      const peers: SimPeer[] = [{ id: 'honest', kind: 'honest', claim: 160, has: 160 }];
      for (let i = 0; i < k; i++) peers.push({ id: `a-liar-${i}`, kind: 'silent', claim: 10_000 + i, has: 0 });
      const tickMs = 50;
      const sim = new SyncSim(CFG, peers, { tickMs, maxDelayMs: 10, seed: k });
      for (const p of peers) sim.connect(p.id);
      const transfers = (160 / CFG.maxBlocksPerRequest) * 10;
      const bound = k * (CFG.requestTimeoutMs + tickMs) + transfers + 10;
      expect(sim.runUntil(() => sim.height === 160, bound)).toBe(true);
      expect(sim.violations).toEqual([]);
      // Each liar was asked once below the honest head (after it, only liars claim more).
      const below = sim.actions.filter(({ action: a }) => a.type === 'request-blocks' && a.peer !== 'honest' && a.from <= 160);
      expect(below.map(({ action }) => action.peer).sort()).toEqual(
        peers
          .slice(1)
          .map((p) => p.id)
          .sort(),
      );
    }
  });
});
