/**
 * Test-only: what the simulated Byzantine validator does on top of running an honest
 * machine. It equivocates, withholds, sends bad commit seals, forged justifications and
 * prepared certificates, messages signed by a non-validator, stale replays and garbage.
 */
import { commitSealBytes } from '../core/block.ts';
import { proposerIndex } from './proposer.ts';
import { encodeMessage, messageSigningBytes, type ConsensusMessage, type RoundChange, type Unsigned, type Vote } from './messages.ts';
import { CHAIN_ID, testBlock, testValidator, type TestValidator } from './test-fixtures.ts';
import type { Simulation, SimNode } from './sim-harness.ts';
import { defaultBlockDigest } from './types.ts';

function randomBytes(sim: Simulation, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(sim.rnd() * 256);
  return b;
}

function signAs(key: TestValidator, m: Unsigned<ConsensusMessage>): ConsensusMessage {
  return { ...m, signature: key.signer.sign(messageSigningBytes(CHAIN_ID, m)) } as ConsensusMessage;
}

/** Per recipient: the honest bytes, a conflicting signed version, a bad seal, or nothing. */
export function byzantineRewrite(sim: Simulation, node: SimNode, m: ConsensusMessage, bytes: Uint8Array): Uint8Array | null {
  const r = sim.rnd();
  if (r < 0.25) {
    const digest = randomBytes(sim, 32);
    switch (m.kind) {
      case 1:
        return encodeMessage(signAs(node.key, { ...m, digest }));
      case 2:
        return encodeMessage(signAs(node.key, { ...m, digest, seal: node.key.signer.blsSign(commitSealBytes(CHAIN_ID, m.height, digest)) }));
      case 0: {
        const block = testBlock(m.height, node.chain.at(-1)?.digest ?? null, node.key.validator.address, 7000 + Math.floor(sim.rnd() * 1000));
        return encodeMessage(signAs(node.key, { ...m, block, digest: defaultBlockDigest(block) }));
      }
      case 3:
        return m.prepared === null ? bytes : encodeMessage(signAs(node.key, { ...m, preparedRound: null, preparedDigest: null, prepared: null }));
    }
  }
  if (r < 0.35 && m.kind === 2) {
    // A validly enveloped COMMIT whose seal signs another digest: breaks naive aggregation.
    return encodeMessage(signAs(node.key, { ...m, seal: node.key.signer.blsSign(commitSealBytes(CHAIN_ID, m.height, randomBytes(sim, 32))) }));
  }
  if (r < 0.4) return null;
  return bytes;
}

function toAll(sim: Simulation, node: SimNode, bytes: Uint8Array): void {
  for (const o of sim.nodes) if (o !== node) sim.send(node.index, o.index, bytes);
}

export function byzantineNoise(sim: Simulation, node: SimNode): void {
  const machine = node.machine;
  if (machine === null) return;
  const h = machine.height;
  const round = machine.currentRound;
  const prev = node.chain.at(-1)?.proposer ?? null;
  const parent = node.chain.at(-1)?.digest ?? null;
  const pick = <T>(xs: readonly T[]): T | undefined => (xs.length === 0 ? undefined : xs[Math.floor(sim.rnd() * xs.length)]);
  const target = pick(sim.nodes.filter((o) => o !== node))!;
  const captured = node.captured;
  switch (Math.floor(sim.rnd() * 7)) {
    case 0: // garbage
      sim.send(node.index, target.index, randomBytes(sim, Math.floor(sim.rnd() * 300)));
      return;
    case 1: { // a captured message with one byte flipped
      const m = pick(captured);
      if (m === undefined) return;
      const b = encodeMessage(m).slice();
      b[Math.floor(sim.rnd() * b.length)]! ^= 1 + Math.floor(sim.rnd() * 255);
      sim.send(node.index, target.index, b);
      return;
    }
    case 2: { // a proposal for a round it leads, with a forged justification
      let r = round + 1;
      while (proposerIndex(sim.set, prev, r) !== node.index) r++;
      const rcs = captured.filter((m): m is RoundChange => m.kind === 3 && m.height === h).map((m) => ({ ...m, prepared: null }));
      const own = signAs(node.key, { kind: 3, height: h, round: r, author: node.key.validator.address, preparedRound: null, preparedDigest: null, prepared: null }) as RoundChange;
      const roundChanges = sim.rnd() < 0.5 ? [own, own, own, own, own] : [own, ...rcs.slice(-sim.n)];
      const votes = captured.filter((m): m is Extract<ConsensusMessage, { kind: 0 | 1 }> => (m.kind === 1 || m.kind === 0) && m.height === h).map((m) => ({ kind: m.kind, height: m.height, round: m.round, author: m.author, digest: m.digest, signature: m.signature }) as Vote);
      const block = testBlock(h, parent, node.key.validator.address, 9000 + Math.floor(sim.rnd() * 1000));
      toAll(sim, node, encodeMessage(signAs(node.key, { kind: 0, height: h, round: r, author: node.key.validator.address, digest: defaultBlockDigest(block), block, justification: { roundChanges, votes: votes.slice(-sim.n) } })));
      return;
    }
    case 3: { // a round change claiming a prepared round it cannot prove
      const block = testBlock(h, parent, node.key.validator.address, 8000 + Math.floor(sim.rnd() * 1000));
      const digest = defaultBlockDigest(block);
      const vote = signAs(node.key, { kind: 1, height: h, round, author: node.key.validator.address, digest }) as Vote;
      toAll(sim, node, encodeMessage(signAs(node.key, {
        kind: 3, height: h, round: round + 1, author: node.key.validator.address, preparedRound: round, preparedDigest: digest,
        prepared: { block, votes: [vote, vote, vote] },
      })));
      return;
    }
    case 4: { // signed by a key outside the validator set
      const outsider = testValidator(0, 'outsider');
      sim.send(node.index, target.index, encodeMessage(signAs(outsider, { kind: 1, height: h, round, author: outsider.validator.address, digest: randomBytes(sim, 32) })));
      return;
    }
    case 5: { // replay of anything captured (mostly stale)
      const m = pick(captured);
      if (m !== undefined) sim.send(node.index, target.index, encodeMessage(m));
      return;
    }
    case 6: // round changes far ahead (tests the round-distance bound and the f+1 rule)
      toAll(sim, node, encodeMessage(signAs(node.key, {
        kind: 3, height: h, round: round + 1 + Math.floor(sim.rnd() * 20), author: node.key.validator.address, preparedRound: null, preparedDigest: null, prepared: null,
      })));
      return;
  }
}
