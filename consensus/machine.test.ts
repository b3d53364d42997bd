import { describe, expect, it } from 'vitest';
import { commitSealBytes } from '../core/block.ts';
import { toHex } from '../core/bytes.ts';
import { verifyCertificate } from './certificate.ts';
import { verifyEvidence } from './evidence.ts';
import { QbftMachine } from './machine.ts';
import { encodeMessage, toCore, type ConsensusMessage, type Justification } from './messages.ts';
import { messageSigningBytes, type RoundChange, type Unsigned, type Vote } from '../core/signed-core.ts';
import { CHAIN_ID, testBlock, testValidators, testValidator } from './testing/fixtures.ts';
import { ValidatorSet } from '../core/validators.ts';
import { defaultBlockDigest, type ConsensusAction, type WalRecord } from './types.ts';
import { decodeWalRecord } from './wal-record.ts';

// Scenario tests in the spirit of Besu's QBFT suite. Height 1, no previous proposer: the
// proposer of round r is validator r mod 4. The node under test is usually validator 3.
const { keys, set } = testValidators(4);
const addr = (i: number) => keys[i]!.validator.address;
const sign = <M extends Unsigned<ConsensusMessage>>(i: number, m: M, k = keys[i]!): ConsensusMessage =>
  ({ ...m, signature: k.signer.sign(messageSigningBytes(CHAIN_ID, m)) }) as ConsensusMessage;
const blockA = testBlock(1, null, addr(0), 0, 0, set.hash);
const blockB = testBlock(1, null, addr(1), 1, 1, set.hash); // built by the proposer of round 1
/** Another round-0 block of validator 0: what an equivocating proposer shows some nodes. */
const blockA2 = testBlock(1, null, addr(0), 2, 0, set.hash);
const A = defaultBlockDigest(blockA);
const B = defaultBlockDigest(blockB);
const A2 = defaultBlockDigest(blockA2);

const proposal = (i: number, round: number, block: Uint8Array, justification: Justification | null = null, height = 1) =>
  sign(i, { kind: 0, height, round, author: addr(i), digest: defaultBlockDigest(block), block, justification });
const prepare = (i: number, round: number, digest: Uint8Array, height = 1) => sign(i, { kind: 1, height, round, author: addr(i), digest });
const commit = (i: number, round: number, digest: Uint8Array, sealDigest = digest) =>
  sign(i, { kind: 2, height: 1, round, author: addr(i), digest, seal: keys[i]!.signer.blsSign(commitSealBytes(CHAIN_ID, 1, round, sealDigest)) });
const rc = (i: number, round: number, prepared: { round: number; block: Uint8Array; votes: ConsensusMessage[] } | null = null) =>
  sign(i, {
    kind: 3,
    height: 1,
    round,
    author: addr(i),
    preparedRound: prepared?.round ?? null,
    preparedDigest: prepared === null ? null : defaultBlockDigest(prepared.block),
    prepared: prepared === null ? null : { block: prepared.block, votes: prepared.votes.map((v) => toCore(v) as Vote) },
  }) as RoundChange;
const justify = (rcs: RoundChange[], votes: ConsensusMessage[] = []): Justification => ({
  roundChanges: rcs.map((r) => ({ ...r, prepared: null })),
  votes: votes.map((v) => toCore(v) as Vote),
});

function node(i: number, wal: readonly WalRecord[] = []): { m: QbftMachine; first: ConsensusAction[] } {
  const m = new QbftMachine({ chainId: CHAIN_ID, signer: keys[i]!.signer, requestTimeoutMs: 1000 });
  return { m, first: m.step({ type: 'start', height: 1, validators: set, previousProposer: null, wal }) };
}
const recv = (m: QbftMachine, msg: ConsensusMessage | Uint8Array) => m.step({ type: 'message', bytes: msg instanceof Uint8Array ? msg : encodeMessage(msg) });
const verdictOf = (acts: ConsensusAction[]) => acts.find((a) => a.type === 'verdict') as Extract<ConsensusAction, { type: 'verdict' }>;
const sent = (acts: ConsensusAction[]) => acts.flatMap((a) => (a.type === 'broadcast' ? [a.message] : []));
const ofType = <T extends ConsensusAction['type']>(acts: ConsensusAction[], t: T) =>
  acts.filter((a): a is Extract<ConsensusAction, { type: T }> => a.type === t);
const walOf = (acts: ConsensusAction[]) => ofType(acts, 'persist').map((a) => decodeWalRecord(a.bytes));

/** Node 3 receives proposal A at round 0 and validates it: returns the machine and its actions. */
function preparedNode3(): { m: QbftMachine; acts: ConsensusAction[] } {
  const { m, first } = node(3);
  const acts = [...first, ...recv(m, proposal(0, 0, blockA))];
  acts.push(...m.step({ type: 'validated', height: 1, digest: A, verdict: 'valid' }));
  acts.push(...recv(m, prepare(1, 0, A)), ...recv(m, prepare(2, 0, A)));
  return { m, acts };
}

describe('QBFT scenarios', () => {
  it('four validators commit one block with one aggregate certificate', () => {
    const started = [0, 1, 2, 3].map((i) => node(i));
    const nodes = started.map((x) => x.m);
    const queue: [number, ConsensusAction][] = [];
    started.map((x) => x.first).forEach((acts, i) => acts.forEach((a) => queue.push([i, a])));
    const commits: Extract<ConsensusAction, { type: 'commit' }>[] = [];
    while (queue.length > 0) {
      const [i, a] = queue.shift()!;
      let out: ConsensusAction[] = [];
      if (a.type === 'broadcast') for (let j = 0; j < 4; j++) if (j !== i) recv(nodes[j]!, a.bytes).forEach((x) => queue.push([j, x]));
      if (a.type === 'propose') out = nodes[i]!.step({ type: 'block-proposed', height: 1, round: a.round, block: blockA });
      if (a.type === 'validate') out = nodes[i]!.step({ type: 'validated', height: 1, digest: a.digest, verdict: 'valid' });
      if (a.type === 'commit') commits.push(a);
      out.forEach((x) => queue.push([i, x]));
    }
    expect(commits).toHaveLength(4);
    for (const c of commits) {
      expect(toHex(c.certificate.blockHash)).toBe(toHex(A));
      expect(verifyCertificate(c.certificate, set, CHAIN_ID)).toBe(true);
    }
  });

  it('buffers future-height messages, hints sync, and replays them when the height starts', () => {
    const { m } = node(3);
    const blockH2 = testBlock(2, A, addr(1), 0, 0, set.hash);
    const D2 = defaultBlockDigest(blockH2);
    const p2 = proposal(1, 0, blockH2, null, 2); // height 2 after v0 proposed height 1: v1 leads round 0
    const a1 = recv(m, p2);
    expect(verdictOf(a1).verdict).toBe('accept');
    expect(ofType(a1, 'validate')).toHaveLength(0);
    const a2 = recv(m, prepare(0, 0, D2, 2));
    expect(ofType(a2, 'sync-needed')).toEqual([{ type: 'sync-needed', height: 1 }]); // f+1 validators are ahead
    recv(m, prepare(2, 0, D2, 2));
    expect(verdictOf(recv(m, prepare(2, 0, D2, 13))).verdict).toBe('ignore'); // beyond the height distance
    const start = m.step({ type: 'new-height', height: 2, validators: set, previousProposer: addr(0) });
    expect(ofType(start, 'validate').map((a) => toHex(a.digest))).toEqual([toHex(D2)]);
    const after = m.step({ type: 'validated', height: 2, digest: D2, verdict: 'valid' });
    expect(sent(after).map((x) => x.kind)).toEqual([1, 2]); // PREPARE, then prepared (4 votes) so COMMIT
  });

  it('bounds the future buffer per author and ignores replays of one buffered message', () => {
    const m = new QbftMachine({ chainId: CHAIN_ID, signer: keys[3]!.signer, requestTimeoutMs: 1000, maxFuturePerAuthor: 2 });
    m.step({ type: 'start', height: 1, validators: set, previousProposer: null, wal: [] });
    expect(verdictOf(recv(m, prepare(1, 0, A, 2))).verdict).toBe('accept');
    expect(verdictOf(recv(m, prepare(1, 0, A, 2))).reason).toBe('duplicate');
    expect(verdictOf(recv(m, prepare(1, 1, A, 2))).verdict).toBe('accept');
    expect(verdictOf(recv(m, prepare(1, 2, A, 2))).reason).toMatch(/full/);
    expect(verdictOf(recv(m, prepare(2, 0, A, 2))).verdict).toBe('accept'); // another author has its own quota
    expect(m.bufferedFutureMessages).toBe(3);
  });

  it('keeps future-round prepares and uses them when a justified future proposal arrives', () => {
    const { m } = node(3);
    recv(m, prepare(0, 1, B));
    recv(m, prepare(2, 1, B));
    expect(m.currentRound).toBe(0);
    const acts = recv(m, proposal(1, 1, blockB, justify([rc(0, 1), rc(1, 1), rc(2, 1)])));
    expect(verdictOf(acts).verdict).toBe('accept');
    expect(m.currentRound).toBe(1);
    expect(ofType(acts, 'schedule-timeout')).toEqual([{ type: 'schedule-timeout', height: 1, round: 1, ms: 2000 }]);
    const v = m.step({ type: 'validated', height: 1, digest: B, verdict: 'valid' });
    expect(sent(v).map((x) => [x.kind, x.round])).toEqual([
      [1, 1],
      [2, 1],
    ]);
  });

  it('rejects unjustified future proposals and stays in its round', () => {
    const { m } = node(3);
    const cases: [ConsensusMessage, RegExp][] = [
      [proposal(1, 1, blockB, justify([rc(0, 1), rc(1, 1)])), /quorum/],
      [proposal(1, 1, blockB, justify([rc(0, 1), rc(1, 1), rc(1, 1)])), /duplicate/],
      [proposal(1, 1, blockB, justify([rc(0, 2), rc(1, 2), rc(2, 2)])), /expected/],
      [proposal(1, 1, blockB, null), /without justification/],
      [proposal(2, 1, blockB, justify([rc(0, 1), rc(1, 1), rc(2, 1)])), /not from the proposer/],
      [proposal(0, 0, blockA, justify([rc(0, 1), rc(1, 1), rc(2, 1)])), /must not carry/],
      [{ ...(proposal(0, 0, blockA) as object), block: blockB } as ConsensusMessage, /does not match/],
    ];
    for (const [msg, why] of cases) {
      const v = verdictOf(recv(m, msg));
      expect(v.verdict).toBe('reject');
      expect(v.reason).toMatch(why);
    }
    expect(m.currentRound).toBe(0);
  });

  it('round change carries the prepared certificate; the next proposer re-proposes that block', () => {
    const { m, acts } = preparedNode3();
    const persisted = walOf(acts);
    expect(persisted.map((r) => (r.type === 'signed' ? r.message.kind : 'prepared'))).toEqual([1, 'prepared', 2]);
    const t = m.step({ type: 'timeout', height: 1, round: 0 });
    const rc3 = sent(t)[0] as RoundChange;
    expect([rc3.kind, rc3.round, rc3.preparedRound, toHex(rc3.preparedDigest!)]).toEqual([3, 1, 0, toHex(A)]);
    expect(rc3.prepared!.votes.length).toBeGreaterThanOrEqual(3);
    expect(t.findIndex((a) => a.type === 'persist')).toBeLessThan(t.findIndex((a) => a.type === 'broadcast'));

    const p1 = node(1).m; // proposer of round 1
    p1.step({ type: 'timeout', height: 1, round: 0 });
    recv(p1, rc(2, 1));
    const out = recv(p1, rc3);
    expect(ofType(out, 'propose')).toHaveLength(0); // no new block: it must re-propose A
    const prop = sent(out).find((x) => x.kind === 0)!;
    expect(toHex(prop.digest)).toBe(toHex(A));
    // Any validator accepts it as a justified future proposal.
    const fresh = node(2).m;
    expect(verdictOf(recv(fresh, prop)).verdict).toBe('accept');
    expect(fresh.currentRound).toBe(1);
    // A proposal of another block under the same justification is rejected.
    const lie = proposal(1, 1, blockB, (prop as { justification: Justification }).justification);
    expect(verdictOf(recv(node(2).m, lie)).reason).toMatch(/disagree/);
  });

  it('round change without a prepared certificate lets the proposer build a new block', () => {
    const p1 = node(1).m;
    p1.step({ type: 'timeout', height: 1, round: 0 });
    recv(p1, rc(0, 1));
    const out = recv(p1, rc(2, 1));
    expect(ofType(out, 'propose')).toEqual([{ type: 'propose', height: 1, round: 1 }]);
    const blockC = testBlock(1, null, addr(1), 7, 1, set.hash);
    const prop = sent(p1.step({ type: 'block-proposed', height: 1, round: 1, block: blockC }))[0]!;
    expect(prop.kind).toBe(0);
    const j = (prop as { justification: Justification }).justification;
    expect([j.roundChanges.length, j.votes.length]).toEqual([3, 0]);
    expect(verdictOf(recv(node(3).m, prop)).verdict).toBe('accept');
  });

  it('rejects round changes whose prepared certificate does not prove the claim', () => {
    const { m } = node(3);
    const short = rc(0, 1, { round: 0, block: blockA, votes: [proposal(0, 0, blockA), prepare(1, 0, A)] });
    expect(verdictOf(recv(m, short)).reason).toMatch(/quorum/);
    const wrongDigest = rc(0, 1, { round: 0, block: blockA, votes: [proposal(0, 0, blockA), prepare(1, 0, A), prepare(2, 0, B)] });
    expect(verdictOf(recv(m, wrongDigest)).reason).toMatch(/different digest/);
    const notProposer = rc(0, 1, { round: 0, block: blockA, votes: [proposal(1, 0, blockA), prepare(1, 0, A), prepare(2, 0, A)] });
    expect(verdictOf(recv(m, notProposer)).reason).toMatch(/proposer/);
    // Votes this set made and verifies, for a block built for another set (what a set an
    // emergency transition replaced prepared): never a lock, since no validator accepts the block.
    const elsewhere = testBlock(1, null, addr(0), 0, 0, testValidators(3).set.hash);
    const E = defaultBlockDigest(elsewhere);
    const otherSet = rc(0, 1, { round: 0, block: elsewhere, votes: [proposal(0, 0, elsewhere), prepare(1, 0, E), prepare(2, 0, E)] });
    expect(verdictOf(recv(m, otherSet)).reason).toMatch(/another validator set/);
  });

  it('f+1 round changes for higher rounds make a node jump to the smallest of them', () => {
    const { m } = node(3);
    // Not the proposers of rounds 0 and 2 (a proposer that left its round is another rule).
    recv(m, rc(1, 3));
    expect(m.currentRound).toBe(0);
    const acts = recv(m, rc(2, 2));
    expect(m.currentRound).toBe(2);
    expect(sent(acts).map((x) => [x.kind, x.round])).toEqual([[3, 2]]);
  });

  it('ignores duplicates, stale and too-far messages; rejects malformed input and non-validators', () => {
    const { m } = node(3);
    expect(verdictOf(recv(m, prepare(1, 0, A))).verdict).toBe('accept');
    expect(verdictOf(recv(m, prepare(1, 0, A))).reason).toBe('duplicate');
    expect(verdictOf(recv(m, prepare(1, 0, A, 0))).reason).toBe('stale height');
    expect(verdictOf(recv(m, prepare(0, 20, A))).reason).toMatch(/too far/);
    m.step({ type: 'timeout', height: 1, round: 0 });
    expect(verdictOf(recv(m, prepare(2, 0, A))).reason).toBe('stale round');
    expect(verdictOf(recv(m, new Uint8Array([1, 2, 3]))).verdict).toBe('reject');
    const truncated = encodeMessage(prepare(2, 1, A)).subarray(0, 20);
    expect(verdictOf(recv(m, truncated)).verdict).toBe('reject');
    const outsider = testValidator(0, 'outsider');
    const foreign = sign(0, { kind: 1, height: 1, round: 1, author: outsider.validator.address, digest: A }, outsider);
    expect(verdictOf(recv(m, foreign)).reason).toMatch(/not a validator/);
    const forged = { ...(prepare(2, 1, A) as object), signature: new Uint8Array(64) } as ConsensusMessage;
    expect(verdictOf(recv(m, forged)).reason).toBe('bad signature');
  });

  it('turns two different signed messages of one kind, height and round into evidence', () => {
    const { m } = node(3);
    recv(m, prepare(1, 0, A));
    const acts = recv(m, prepare(1, 0, B));
    const ev = ofType(acts, 'evidence');
    expect(ev).toHaveLength(1);
    expect(verifyEvidence(ev[0]!.evidence, set, CHAIN_ID)).toBe(true);
    expect(ofType(recv(m, prepare(1, 0, B)), 'evidence')).toHaveLength(0); // reported once
  });

  it('drops a bad commit seal and certifies with the good ones', () => {
    const { m } = preparedNode3(); // its own COMMIT is counted
    expect(m.isCommitted).toBe(false);
    expect(ofType(recv(m, commit(2, 0, A, B)), 'commit')).toHaveLength(0); // envelope fine, seal signs B
    expect(ofType(recv(m, commit(0, 0, A)), 'commit')).toHaveLength(0); // 3 seals, one bad: no certificate
    const done = ofType(recv(m, commit(1, 0, A)), 'commit');
    expect(done).toHaveLength(1);
    expect(verifyCertificate(done[0]!.certificate, set, CHAIN_ID)).toBe(true);
    expect(done[0]!.certificate.signers).toEqual(new Uint8Array([0b1011]));
  });
});

describe('never sign twice (WAL)', () => {
  const conflicts = (msgs: ConsensusMessage[]) => {
    const by = new Map<string, string>();
    for (const x of msgs) {
      const k = `${x.height}/${x.round}/${x.kind}`;
      const p = toHex(messageSigningBytes(CHAIN_ID, x));
      if (by.has(k) && by.get(k) !== p) return true;
      by.set(k, p);
    }
    return false;
  };

  it('crash between the WAL write and the send: resends the same vote, refuses a conflicting one', () => {
    const { m, first } = node(3);
    const acts = [...first, ...recv(m, proposal(0, 0, blockA)), ...m.step({ type: 'validated', height: 1, digest: A, verdict: 'valid' })];
    const wal = walOf(acts); // the PREPARE was persisted; pretend the broadcast never happened
    const again = node(3, wal);
    const resent = sent(again.first);
    expect(resent.map((x) => encodeMessage(x))).toEqual([encodeMessage(sent(acts)[0]!)]);
    // The equivocating proposer now shows this node block B in round 0.
    const later = [...recv(again.m, proposal(0, 0, blockA2)), ...again.m.step({ type: 'validated', height: 1, digest: A2, verdict: 'valid' })];
    expect(ofType(later, 'refused')).toHaveLength(1);
    expect(conflicts([...sent(acts), ...resent, ...sent(later)])).toBe(false);
  });

  it('crash between the send and the commit: keeps its prepared certificate and never conflicts', () => {
    const { acts } = preparedNode3(); // sent PREPARE and COMMIT for A, crashed before committing
    const again = node(3, walOf(acts));
    const out = [...again.first];
    out.push(...recv(again.m, proposal(0, 0, blockA2)), ...again.m.step({ type: 'validated', height: 1, digest: A2, verdict: 'valid' }));
    out.push(...recv(again.m, prepare(1, 0, A2)), ...recv(again.m, prepare(2, 0, A2)));
    const t = again.m.step({ type: 'timeout', height: 1, round: 0 });
    const rc1 = sent(t).find((x) => x.kind === 3) as RoundChange;
    expect([rc1.preparedRound, toHex(rc1.preparedDigest!)]).toEqual([0, toHex(A)]);
    expect(conflicts([...sent(acts), ...sent(out), ...sent(t)])).toBe(false);
  });

  /**
   * Round 0 of the old set: validator 0 proposes A and every validator prepares it, but no
   * COMMIT arrives anywhere before validators are lost. Returns each validator's WAL and
   * what it signed.
   */
  function preparedByAll(): { wals: WalRecord[][]; signed: ConsensusMessage[][] } {
    const started = [0, 1, 2, 3].map((i) => node(i));
    const queue: [number, ConsensusAction][] = [];
    const acts: ConsensusAction[][] = started.map((x) => [...x.first]);
    started.forEach((x, i) => x.first.forEach((a) => queue.push([i, a])));
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const [i, a] = next;
      let out: ConsensusAction[] = [];
      if (a.type === 'propose') out = started[i]!.m.step({ type: 'block-proposed', height: 1, round: 0, block: blockA });
      if (a.type === 'validate') out = started[i]!.m.step({ type: 'validated', height: 1, digest: a.digest, verdict: 'valid' });
      if (a.type === 'broadcast' && a.message.kind !== 2)
        started.forEach((o, k) => k !== i && recv(o.m, a.bytes).forEach((x) => (acts[k]!.push(x), queue.push([k, x]))));
      acts[i]!.push(...out);
      out.forEach((x) => queue.push([i, x]));
    }
    return { wals: acts.map(walOf), signed: acts.map(sent) };
  }

  // Validators are lost for good after round 0 prepared A; the survivors restart with the
  // height's validators replaced. A names the old set, so it is invalid under the new one
  // whether or not the old votes still verify under it.
  it.each([
    ['{2, 3}, node 3 alone prepared: the old votes do not verify under it', [2, 3], false],
    ['{0, 1, 2}, every survivor prepared: the old votes verify (every voter a member, a quorum), but A names the old set', [0, 1, 2], true],
  ])(
    'restarted under a new validator set (emergency transition) %s: drops the old prepared certificate, and the survivors finalise without waiting out a round',
    (_, members, everyone) => {
      const node3 = everyone ? undefined : preparedNode3().acts;
      const before = node3 === undefined ? preparedByAll() : { wals: [[], [], [], walOf(node3)], signed: [[], [], [], sent(node3)] };
      expect(before.wals.filter((w) => w.some((r) => r.type === 'prepared')).length).toBe(everyone ? 4 : 1);
      const survivors = new ValidatorSet(members.map((i) => keys[i]!.validator));
      const nodes = members.map((i) => new QbftMachine({ chainId: CHAIN_ID, signer: keys[i]!.signer, requestTimeoutMs: 1000 }));
      const queue: [number, ConsensusAction][] = [];
      nodes.forEach((m, j) =>
        m.step({ type: 'start', height: 1, validators: survivors, previousProposer: null, wal: before.wals[members[j]!]! }).forEach((a) => queue.push([j, a])),
      );
      const timeouts: (Extract<ConsensusAction, { type: 'schedule-timeout' }> | undefined)[] = nodes.map(() => undefined);
      const commits: Extract<ConsensusAction, { type: 'commit' }>[] = [];
      const signed = members.map((i) => [...before.signed[i]!]);
      let timersFired = 0;
      for (let steps = 0; steps < 10_000 && commits.length < nodes.length; steps++) {
        const next = queue.shift();
        if (next === undefined) {
          // Nothing in flight: every node's latest timer fires.
          timersFired++;
          timeouts.forEach((t, j) => t !== undefined && nodes[j]!.step({ type: 'timeout', height: 1, round: t.round }).forEach((a) => queue.push([j, a])));
          continue;
        }
        const [j, a] = next;
        let out: ConsensusAction[] = [];
        if (a.type === 'broadcast') {
          signed[j]!.push(a.message);
          nodes.forEach((other, k) => k !== j && recv(other, a.bytes).forEach((x) => queue.push([k, x])));
        }
        if (a.type === 'schedule-timeout') timeouts[j] = a;
        if (a.type === 'propose') {
          const block = testBlock(1, null, keys[members[j]!]!.validator.address, 10 + a.round, a.round, survivors.hash);
          out = nodes[j]!.step({ type: 'block-proposed', height: 1, round: a.round, block });
        }
        if (a.type === 'validate')
          out = nodes[j]!.step({ type: 'validated', height: 1, digest: a.digest, verdict: toHex(a.digest) === toHex(A) ? 'invalid' : 'valid' });
        if (a.type === 'commit') commits.push(a);
        out.forEach((x) => queue.push([j, x]));
      }
      expect(commits).toHaveLength(nodes.length);
      expect(new Set(commits.map((c) => toHex(c.certificate.blockHash))).size).toBe(1);
      expect(toHex(commits[0]!.certificate.blockHash)).not.toBe(toHex(A));
      for (const c of commits) expect(verifyCertificate(c.certificate, survivors, CHAIN_ID)).toBe(true);
      for (const mine of signed) expect(conflicts(mine)).toBe(false);
      // What a survivor signed in round 0 for the old set's block leaves it no vote in round 0:
      // it moves on to round 1 at its restart, rather than wait out round 0's timer (2^round
      // timeouts, after a long outage).
      expect(timersFired).toBe(0);
    },
  );

  it('resumes at the highest round it signed in', () => {
    const { m } = node(3);
    m.step({ type: 'timeout', height: 1, round: 0 });
    const t = m.step({ type: 'timeout', height: 1, round: 1 });
    const again = node(3, walOf(t));
    expect(again.m.currentRound).toBe(2);
    expect(ofType(again.first, 'schedule-timeout')).toEqual([{ type: 'schedule-timeout', height: 1, round: 2, ms: 4000 }]);
  });
});
