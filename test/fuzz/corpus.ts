/**
 * Valid inputs the fuzz targets mutate: signed transactions of every type, blocks, and a
 * transcript of real QBFT messages (four honest machines through a round change with a
 * prepared certificate and a re-proposal, then a second height), plus equivocations.
 * Everything is deterministic (fixtures.ts keys, fixed timestamps).
 */
import { commitSealBytes, decodeBlock, encodeBlock, type Block, type CommitCertificate } from '../../core/block.ts';
import { toHex } from '../../core/bytes.ts';
import { encode } from '../../core/codec.ts';
import { encodeEvidence, makeEvidence } from '../../core/evidence.ts';
import { ZERO_HASH } from '../../core/hash.ts';
import { addressFromPublicKey, blsAggregateSignatures, blsSign, ed25519Sign } from '../../core/keys.ts';
import { signProofOfPossession } from '../../core/pop.ts';
import { messageSigningBytes, type SignedCore, type Unsigned } from '../../core/signed-core.ts';
import { buildEvidenceTx } from '../../core/tx/evidence.ts';
import { signBody } from '../../core/tx/sign.ts';
import { buildTransfer } from '../../core/tx/transfer.ts';
import { buildValidatorVote } from '../../core/tx/validator-vote.ts';
import { signTx, type Tx } from '../../core/tx.ts';
import { bitmapFromIndexes, type ValidatorSet } from '../../core/validators.ts';
import { keySigner } from '../../consensus/crypto.ts';
import { QbftMachine } from '../../consensus/machine.ts';
import { encodeMessage, type ConsensusMessage } from '../../consensus/messages.ts';
import type { ConsensusAction } from '../../consensus/types.ts';
import { encodeWalRecord } from '../../consensus/wal-record.ts';
import { genesisValidatorSet } from '../../genesis/index.ts';
import { encodeCertifiedBlock } from '../../node/blocks/block-import.ts';
import { FUZZ_GENESIS_TIME, fuzzBls, fuzzEd25519, type FuzzNetwork } from './fixtures.ts';

// ---------------------------------------------------------------- transactions

/** Signed txs of every type, valid on `net` at genesis (nonce 0 and a few later), and some that are not. */
export function txCorpus(net: FuzzNetwork): Tx[] {
  const { chainId } = net.genesis;
  const [a0, a1] = net.accounts;
  if (a0 === undefined || a1 === undefined) throw new Error('txCorpus needs two accounts');
  const to = addressFromPublicKey(a1.publicKey);
  const out: Tx[] = [];
  for (const [nonce, amount, fee] of [
    [0, 1n, 10n],
    [1, 127n, 25n],
    [2, 128n, 10n],
    [0, 2n ** 32n, 1000n],
    [3, 2n ** 63n, 10n],
    [0, 1000n, 0n],
  ] as const) {
    out.push(buildTransfer({ chainId, seed: a0.seed, nonce, fee, to, amount }));
  }
  const newcomer = { identity: fuzzEd25519('newcomer', 0), bls: fuzzBls('newcomer', 0) };
  const v0 = net.validators[0]!;
  out.push(
    buildValidatorVote({
      chainId,
      seed: v0.identity.seed,
      nonce: 0,
      fee: 25n,
      action: 'add',
      validator: {
        name: 'newcomer-0',
        identityKey: newcomer.identity.publicKey,
        blsKey: newcomer.bls.publicKey,
        blsProofOfPossession: signProofOfPossession(chainId, newcomer.bls.secretKey, newcomer.bls.publicKey, newcomer.identity.publicKey),
      },
    }),
  );
  const v1 = net.validators[1] ?? v0;
  out.push(
    buildValidatorVote({
      chainId,
      seed: v0.identity.seed,
      nonce: 1,
      fee: 25n,
      action: 'remove',
      validator: { name: v1.name, identityKey: v1.identity.publicKey, blsKey: v1.consensus.publicKey },
    }),
  );
  const [first, second] = equivocation(net, 1, 0);
  out.push(buildEvidenceTx({ chainId, seed: a1.seed, nonce: 0, fee: 10n, evidence: encodeEvidence(makeEvidence(first, second)) }));
  // A type no registry knows, and a tx of another chain.
  out.push(signBody({ chainId, seed: a0.seed, nonce: 0, fee: 10n }, 1, encode([to, 5n])));
  out.push(signTx({ chainId, type: 99, sender: a0.publicKey, nonce: 0, fee: 10n, body: new Uint8Array([0x90]) }, a0.seed));
  out.push(buildTransfer({ chainId: 'joule-other', seed: a0.seed, nonce: 0, fee: 10n, to, amount: 1n }));
  return out;
}

// ---------------------------------------------------------------- consensus

function sign(net: FuzzNetwork, author: number, m: Unsigned<SignedCore>): SignedCore {
  const v = net.validators[author]!;
  return { ...m, signature: ed25519Sign(v.identity.seed, messageSigningBytes(net.genesis.chainId, m)) } as SignedCore;
}

/** Two PREPAREs of validator `author` (index in the sorted set) at (height, round 0) for different digests. */
export function equivocation(net: FuzzNetwork, height: number, author: number): [SignedCore, SignedCore] {
  const set = genesisValidatorSet(net.genesis);
  const who = net.validators.findIndex((v) => toHex(v.address) === toHex(set.at(author).address));
  const prepare = (fill: number) => sign(net, who, { kind: 1, height, round: 0, author: set.at(author).address, digest: new Uint8Array(32).fill(fill) });
  return [prepare(0xaa), prepare(0xbb)];
}

/** A small real block (no txs) built in `round` by `proposer`. */
export function emptyBlock(net: FuzzNetwork, height: number, round: number, proposer: Uint8Array, parentHash: Uint8Array, salt = 0): Uint8Array {
  const block: Block = {
    header: {
      chainId: net.genesis.chainId,
      height,
      round,
      parentHash,
      timestamp: FUZZ_GENESIS_TIME + height * 1000 + salt,
      proposer,
      txRoot: ZERO_HASH,
      stateRoot: ZERO_HASH,
      receiptsRoot: ZERO_HASH,
      validatorSetHash: genesisValidatorSet(net.genesis).hash,
      txCount: 0,
      parentCertificate: null,
    },
    txs: [],
  };
  return encodeBlock(block);
}

export interface Transcript {
  /** Every message sent, encoded, in order. */
  readonly messages: Uint8Array[];
  readonly decoded: ConsensusMessage[];
  readonly commits: { readonly height: number; readonly block: Uint8Array; readonly certificate: CommitCertificate }[];
  /** The WAL records the machines wrote. */
  readonly wal: Uint8Array[];
}

/**
 * Four honest machines of `net` (which must have four validators): at height 1 round 0
 * everyone prepares but the COMMITs are lost, round 0 times out, ROUND-CHANGEs carry the
 * prepared certificate, round 1's proposer re-proposes with a justification and the block
 * is committed; height 2 commits in round 0.
 */
export function consensusTranscript(net: FuzzNetwork): Transcript {
  const set: ValidatorSet = genesisValidatorSet(net.genesis);
  const chainId = net.genesis.chainId;
  const keys = set.validators.map((v) => net.validators.find((k) => toHex(k.address) === toHex(v.address))!);
  const nodes = keys.map((k) => new QbftMachine({ chainId, signer: keySigner(k.address, k.identity.seed, k.consensus.secretKey), requestTimeoutMs: 1000 }));
  const messages: Uint8Array[] = [];
  const decoded: ConsensusMessage[] = [];
  const commits: Transcript['commits'] = [];
  const wal: Uint8Array[] = [];
  let pending: { from: number; m: ConsensusMessage; bytes: Uint8Array }[] = [];
  let parent: Uint8Array = ZERO_HASH;
  const run = (i: number, actions: ConsensusAction[]): void => {
    for (const a of actions) {
      if (a.type === 'broadcast') {
        pending.push({ from: i, m: a.message, bytes: a.bytes });
        messages.push(a.bytes);
        decoded.push(a.message);
      } else if (a.type === 'persist') wal.push(a.bytes);
      else if (a.type === 'validate') run(i, nodes[i]!.step({ type: 'validated', height: a.height, digest: a.digest, verdict: 'valid' }));
      else if (a.type === 'propose')
        run(
          i,
          nodes[i]!.step({
            type: 'block-proposed',
            height: a.height,
            round: a.round,
            block: emptyBlock(net, a.height, a.round, keys[i]!.address, parent, a.round),
          }),
        );
      else if (a.type === 'commit' && !commits.some((c) => c.height === a.height))
        commits.push({ height: a.height, block: a.block, certificate: a.certificate });
    }
  };
  const deliver = (keep: (m: ConsensusMessage) => boolean) => {
    while (pending.some((p) => keep(p.m))) {
      const now = pending.filter((p) => keep(p.m));
      pending = pending.filter((p) => !keep(p.m));
      for (const p of now) for (let j = 0; j < nodes.length; j++) if (j !== p.from) run(j, nodes[j]!.step({ type: 'message', bytes: p.bytes }));
    }
  };
  nodes.forEach((n, i) => run(i, n.step({ type: 'start', height: 1, validators: set, previousProposer: null, wal: [] })));
  deliver((m) => m.kind !== 2); // proposal and prepares; the COMMITs are lost
  pending = [];
  nodes.forEach((n, i) => run(i, n.step({ type: 'timeout', height: 1, round: 0 })));
  deliver(() => true);
  const first = commits.find((c) => c.height === 1);
  if (first === undefined) throw new Error('the transcript did not commit height 1');
  parent = first.certificate.blockHash;
  const previous = decodeBlock(first.block).header.proposer;
  nodes.forEach((n, i) => run(i, n.step({ type: 'new-height', height: 2, validators: set, previousProposer: previous })));
  deliver(() => true);
  if (!commits.some((c) => c.height === 2)) throw new Error('the transcript did not commit height 2');
  // Equivocations: a second, different PREPARE by a validator at each height.
  for (const h of [1, 2]) {
    const [, second] = equivocation(net, h, 1);
    const m = second as ConsensusMessage;
    messages.push(encodeMessage(m));
    decoded.push(m);
  }
  return { messages, decoded, commits, wal };
}

/** WAL records of both kinds: what the transcript's machines wrote, and its messages as signed records. */
export function walCorpus(t: Transcript): Uint8Array[] {
  return [...t.wal, ...t.decoded.slice(0, 8).map((m) => encodeWalRecord({ type: 'signed', message: m }))];
}

// ---------------------------------------------------------------- blocks

/** A certificate of `block` (its digest) sealed by validators `signers` (indexes in the sorted set). */
export function certify(net: FuzzNetwork, height: number, round: number, digest: Uint8Array, signers: readonly number[]): CommitCertificate {
  const set = genesisValidatorSet(net.genesis);
  const message = commitSealBytes(net.genesis.chainId, height, round, digest);
  const seals = signers.map((i) => {
    const v = net.validators.find((k) => toHex(k.address) === toHex(set.at(i).address))!;
    return blsSign(v.consensus.secretKey, message);
  });
  return { height, round, blockHash: digest, aggregateSignature: blsAggregateSignatures(seals), signers: bitmapFromIndexes(set.size, signers) };
}

/** Certified blocks as they travel (sync, block gossip): [block, certificate]. */
export function certifiedItems(t: Transcript): Uint8Array[] {
  return t.commits.map((c) => encodeCertifiedBlock(c.block, c.certificate));
}
