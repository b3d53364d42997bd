/**
 * What a Byzantine validator of the simulation does on top of running an honest machine: it
 * may send any message its key can sign, and tamper with what it relays. Per recipient it
 * equivocates, withholds or breaks seals; on its own it sends commits it never prepared,
 * round changes with stale or unprovable prepared certificates, proposals with forged
 * justifications or another proposer in the header, far-ahead round changes, replays,
 * tampered copies of honest messages (attachments are unsigned) and garbage. Its lies to
 * block sync are in sync-driver.ts (it answers status and block requests).
 */
import { commitSealBytes } from '../../core/block.ts';
import { encodeMessage, type ConsensusMessage, type Proposal } from '../../consensus/messages.ts';
import { messageSigningBytes, type RoundChange, type Unsigned, type Vote } from '../../core/signed-core.ts';
import { proposerIndex } from '../../consensus/proposer.ts';
import { CHAIN_ID, testValidator, type TestValidator } from '../../consensus/testing/fixtures.ts';
import { encodeSimBlock, makeHeader, type ParentView } from './sim-chain.ts';
import { blockHash, decodeBlock } from '../../core/block.ts';

/** What byzantine.ts needs from the simulation. */
export interface ByzantineWorld {
  readonly rnd: () => number;
  readonly size: number;
  send(from: number, to: number, bytes: Uint8Array): void;
}

export interface ByzantineNode {
  readonly index: number;
  readonly key: TestValidator;
  readonly captured: ConsensusMessage[];
  /** Current height and round of its machine, with the view needed to build blocks. */
  view(): { height: number; round: number; parent: ParentView; members: readonly number[]; set: import('../../core/validators.ts').ValidatorSet } | null;
}

function randomBytes(w: ByzantineWorld, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(w.rnd() * 256);
  return b;
}

function signAs(key: TestValidator, m: Unsigned<ConsensusMessage>): ConsensusMessage {
  return { ...m, signature: key.signer.sign(messageSigningBytes(CHAIN_ID, m)) } as ConsensusMessage;
}

function digestOf(block: Uint8Array): Uint8Array {
  return blockHash(decodeBlock(block).header);
}

function ownBlock(w: ByzantineWorld, node: ByzantineNode, round: number, proposer: Uint8Array): Uint8Array | null {
  const v = node.view();
  if (v === null) return null;
  const header = makeHeader(
    v.height,
    round,
    v.parent,
    v.set,
    proposer,
    (v.parent.header?.timestamp ?? 0) + 1 + Math.floor(w.rnd() * 50),
    Math.floor(w.rnd() * 1e6),
  );
  return encodeSimBlock(header, null);
}

/** Per recipient: the honest bytes, a conflicting signed version, a bad seal, or nothing. */
export function byzantineRewrite(w: ByzantineWorld, node: ByzantineNode, m: ConsensusMessage, bytes: Uint8Array): Uint8Array | null {
  const r = w.rnd();
  if (r < 0.2) {
    const digest = randomBytes(w, 32);
    switch (m.kind) {
      case 1:
        return encodeMessage(signAs(node.key, { ...m, digest }));
      case 2:
        return encodeMessage(signAs(node.key, { ...m, digest, seal: node.key.signer.blsSign(commitSealBytes(CHAIN_ID, m.height, m.round, digest)) }));
      case 0: {
        // Another block for the same round: half the time naming someone else as its proposer.
        const v = node.view();
        const proposer = w.rnd() < 0.5 || v === null ? node.key.validator.address : v.set.at(Math.floor(w.rnd() * v.set.size)).address;
        const block = ownBlock(w, node, m.round, proposer);
        return block === null ? bytes : encodeMessage(signAs(node.key, { ...m, block, digest: digestOf(block) }));
      }
      case 3:
        return m.prepared === null ? bytes : encodeMessage(signAs(node.key, { ...m, preparedRound: null, preparedDigest: null, prepared: null }));
    }
  }
  if (r < 0.3 && m.kind === 2) {
    // A validly enveloped COMMIT whose seal signs another round or digest: breaks naive aggregation.
    const round = w.rnd() < 0.5 ? m.round + 1 : m.round;
    const digest = round === m.round ? randomBytes(w, 32) : m.digest;
    return encodeMessage(signAs(node.key, { ...m, seal: node.key.signer.blsSign(commitSealBytes(CHAIN_ID, m.height, round, digest)) }));
  }
  if (r < 0.4) return null;
  return bytes;
}

function toAll(w: ByzantineWorld, node: ByzantineNode, bytes: Uint8Array): void {
  for (let o = 0; o < w.size; o++) if (o !== node.index) w.send(node.index, o, bytes);
}

const pick = <T>(w: ByzantineWorld, xs: readonly T[]): T | undefined => (xs.length === 0 ? undefined : xs[Math.floor(w.rnd() * xs.length)]);

/** One unprompted Byzantine action. */
export function byzantineNoise(w: ByzantineWorld, node: ByzantineNode): void {
  const v = node.view();
  if (v === null) return;
  const { height: h, round } = v;
  const me = node.key.validator.address;
  const target = (node.index + 1 + Math.floor(w.rnd() * (w.size - 1))) % w.size;
  const captured = node.captured;
  switch (Math.floor(w.rnd() * 11)) {
    case 0: // garbage
      w.send(node.index, target, randomBytes(w, Math.floor(w.rnd() * 300)));
      return;
    case 1: {
      // a captured message with one byte flipped
      const m = pick(w, captured);
      if (m === undefined) return;
      const b = encodeMessage(m).slice();
      b[Math.floor(w.rnd() * b.length)]! ^= 1 + Math.floor(w.rnd() * 255);
      w.send(node.index, target, b);
      return;
    }
    case 2: {
      // a proposal for a round it leads, with a forged justification
      let r = round + 1;
      while (proposerIndex(v.set, v.parent.header?.proposer ?? null, r) !== v.set.indexOf(me) && r < round + 4 * v.set.size) r++;
      const rcs = captured.filter((m): m is RoundChange => m.kind === 3 && m.height === h).map((m) => ({ ...m, prepared: null }));
      const own = signAs(node.key, { kind: 3, height: h, round: r, author: me, preparedRound: null, preparedDigest: null, prepared: null }) as RoundChange;
      const roundChanges = w.rnd() < 0.5 ? [own, own, own, own, own] : [own, ...rcs.slice(-v.set.size)];
      const votes = captured
        .filter((m): m is Extract<ConsensusMessage, { kind: 0 | 1 }> => (m.kind === 1 || m.kind === 0) && m.height === h)
        .map((m) => ({ kind: m.kind, height: m.height, round: m.round, author: m.author, digest: m.digest, signature: m.signature }) as Vote);
      const block = ownBlock(w, node, r, me);
      if (block === null) return;
      toAll(
        w,
        node,
        encodeMessage(
          signAs(node.key, {
            kind: 0,
            height: h,
            round: r,
            author: me,
            digest: digestOf(block),
            block,
            justification: { roundChanges, votes: votes.slice(-v.set.size) },
          }),
        ),
      );
      return;
    }
    case 3: {
      // a round change claiming a prepared round it cannot prove
      const block = ownBlock(w, node, round, me);
      if (block === null) return;
      const digest = digestOf(block);
      const vote = signAs(node.key, { kind: 1, height: h, round, author: me, digest }) as Vote;
      toAll(
        w,
        node,
        encodeMessage(
          signAs(node.key, {
            kind: 3,
            height: h,
            round: round + 1,
            author: me,
            preparedRound: round,
            preparedDigest: digest,
            prepared: { block, votes: [vote, vote, vote] },
          }),
        ),
      );
      return;
    }
    case 4: {
      // signed by a key outside the validator set
      const outsider = testValidator(0, 'outsider');
      w.send(
        node.index,
        target,
        encodeMessage(signAs(outsider, { kind: 1, height: h, round, author: outsider.validator.address, digest: randomBytes(w, 32) })),
      );
      return;
    }
    case 5: {
      // replay of anything captured (mostly stale)
      const m = pick(w, captured);
      if (m !== undefined) w.send(node.index, target, encodeMessage(m));
      return;
    }
    case 6: // round changes far ahead (the round window and the f+1 rule)
      toAll(
        w,
        node,
        encodeMessage(
          signAs(node.key, {
            kind: 3,
            height: h,
            round: round + 1 + Math.floor(w.rnd() * 30),
            author: me,
            preparedRound: null,
            preparedDigest: null,
            prepared: null,
          }),
        ),
      );
      return;
    case 7: {
      // a COMMIT for a proposal it never saw prepared, with a valid seal of that round
      const p = pick(
        w,
        captured.filter((m): m is Proposal => m.kind === 0 && m.height === h),
      );
      if (p === undefined) return;
      const seal = node.key.signer.blsSign(commitSealBytes(CHAIN_ID, h, p.round, p.digest));
      w.send(node.index, target, encodeMessage(signAs(node.key, { kind: 2, height: h, round: p.round, author: me, digest: p.digest, seal })));
      return;
    }
    case 8: {
      // a round change reusing someone's stale (older round) prepared certificate
      const old = pick(
        w,
        captured.filter((m): m is RoundChange => m.kind === 3 && m.height === h && m.prepared !== null),
      );
      if (old === undefined) return;
      toAll(
        w,
        node,
        encodeMessage(
          signAs(node.key, {
            kind: 3,
            height: h,
            round: Math.max(round, old.round) + 1,
            author: me,
            preparedRound: old.preparedRound,
            preparedDigest: old.preparedDigest,
            prepared: old.prepared,
          }),
        ),
      );
      return;
    }
    case 9: {
      // a tampered relay of an honest message: the signed core kept, attachments altered
      const m = pick(
        w,
        captured.filter((x) => x.kind === 0 || (x.kind === 3 && x.prepared !== null)),
      );
      if (m === undefined) return;
      let tampered: ConsensusMessage;
      if (m.kind === 0) {
        const j = m.justification;
        tampered =
          w.rnd() < 0.5 || j === null
            ? { ...m, block: ownBlock(w, node, m.round, m.author) ?? m.block }
            : { ...m, justification: { roundChanges: j.roundChanges.slice(1), votes: j.votes.slice(1) } };
      } else {
        const rc = m as RoundChange;
        tampered = { ...rc, prepared: { block: rc.prepared!.block, votes: rc.prepared!.votes.slice(0, 1) } };
      }
      toAll(w, node, encodeMessage(tampered));
      return;
    }
    case 10: // a PREPARE for a digest nobody proposed
      toAll(w, node, encodeMessage(signAs(node.key, { kind: 1, height: h, round, author: me, digest: randomBytes(w, 32) })));
      return;
  }
}
