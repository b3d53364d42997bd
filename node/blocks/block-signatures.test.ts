import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../core/bytes.ts';
import { isJouleError } from '../../core/errors.ts';
import { sha256 } from '../../core/hash.ts';
import { addressFromPublicKey, blsGenerate, ed25519Generate, ed25519Sign } from '../../core/keys.ts';
import { popMessage, signProofOfPossession } from '../../core/pop.ts';
import { verifySignatureSet } from '../../core/signature-sets.ts';
import { buildEvidenceTx } from '../../core/tx/evidence.ts';
import { buildTransfer } from '../../core/tx/transfer.ts';
import { buildValidatorVote } from '../../core/tx/validator-vote.ts';
import { decodeTx, encodeTx, txSigningBytes, type Tx } from '../../core/tx.ts';
import { encodeEvidence, makeEvidence } from '../../core/evidence.ts';
import { messageSigningBytes } from '../../core/signed-core.ts';
import type { Prepare } from '../../consensus/messages.ts';
import { proposerOf } from '../../consensus/proposer.ts';
import { genesisHash, generateDevnet } from '../../genesis/index.ts';
import { txSignatureSets } from '../../vm/index.ts';
import { Chain } from '../chain/chain.ts';
import { SameThreadVerifier } from '../verify/same-thread.ts';
import type { VerificationService } from '../verify/service.ts';
import { VerifiedTxs } from '../verify/verified-txs.ts';
import { WorkerPoolVerifier } from '../verify/worker-pool.ts';
import { buildBlock } from './block-builder.ts';
import { verifyBlock } from './block-verifier.ts';

const devnet = generateDevnet({ validators: 4, accounts: 6, genesisTime: 1_700_000_000_000 });
const { chainId } = devnet.genesis;
const validators = devnet.validatorKeys;
const accounts = devnet.accountKeys.map((a) => a.keyPair);
const candidate = { identity: ed25519Generate(), bls: blsGenerate() };
const flip = (b: Uint8Array, at = 0) => {
  const c = new Uint8Array(b);
  c[at]! ^= 1;
  return c;
};

const transfer = (from: (typeof accounts)[number]) =>
  buildTransfer({ chainId, seed: from.seed, nonce: 0, fee: 10n, to: addressFromPublicKey(validators[0]!.identity.publicKey), amount: 5n });
const forgedEnvelope = (tx: Tx) => decodeTx(encodeTx({ ...tx, signature: flip(tx.signature, 7) }));
const addVote = (voter: number, pop: Uint8Array) =>
  buildValidatorVote({
    chainId,
    seed: validators[voter]!.identity.seed,
    nonce: 0,
    fee: 25n,
    action: 'add',
    validator: { name: 'candidate', identityKey: candidate.identity.publicKey, blsKey: candidate.bls.publicKey, blsProofOfPossession: pop },
  });
const goodPop = signProofOfPossession(chainId, candidate.bls.secretKey, candidate.bls.publicKey, candidate.identity.publicKey);

function prepare(i: number, label: string, forge = false): Prepare {
  const unsigned = { kind: 1 as const, height: 5, round: 0, author: addressFromPublicKey(validators[i]!.identity.publicKey), digest: sha256(utf8(label)) };
  const signature = ed25519Sign(validators[i]!.identity.seed, messageSigningBytes(chainId, unsigned));
  return { ...unsigned, signature: forge ? flip(signature) : signature };
}
const evidence = (reporter: (typeof accounts)[number], author: number, forge = false) =>
  buildEvidenceTx({
    chainId,
    seed: reporter.seed,
    nonce: 0,
    fee: 25n,
    evidence: encodeEvidence(makeEvidence(prepare(author, 'A'), prepare(author, 'B', forge))),
  });

let dir: string;
let chain: Chain;
let pool: WorkerPoolVerifier;
const stopped = new SameThreadVerifier();
beforeAll(async () => {
  await stopped.close();
  dir = await mkdtemp(join(tmpdir(), 'joule-block-signatures-'));
  chain = await Chain.open(dir, devnet.genesis, genesisHash(devnet.genesis));
  pool = new WorkerPoolVerifier({ workers: 2 });
});
afterAll(async () => {
  await pool.close();
  await chain.close();
  await rm(dir, { recursive: true, force: true });
});

const ctx = () => chain.nextBlockContext();

describe('signature sets of every tx type', () => {
  it('transfer: the envelope alone', () => {
    const tx = transfer(accounts[0]!);
    const sets = txSignatureSets(chain.world, tx, ctx());
    expect(sets.map((s) => [s.set.kind, s.field])).toEqual([['ed25519', 'tx.signature']]);
    expect(sets[0]!.set).toEqual({ kind: 'ed25519', publicKey: tx.sender, message: txSigningBytes(tx), signature: tx.signature });
    expect(verifySignatureSet(sets[0]!.set)).toBe(true);
  });

  it("validator-vote: an add carries the new key's proof of possession (BLS), a remove nothing more", () => {
    const add = txSignatureSets(chain.world, addVote(0, goodPop), ctx());
    expect(add.map((s) => [s.set.kind, s.field])).toEqual([
      ['ed25519', 'tx.signature'],
      ['bls', 'tx.body'],
    ]);
    expect(add[1]!.set).toEqual({
      kind: 'bls',
      publicKey: candidate.bls.publicKey,
      message: popMessage(chainId, candidate.bls.publicKey, candidate.identity.publicKey),
      signature: goodPop,
    });
    expect(add.every((s) => verifySignatureSet(s.set))).toBe(true);
    const v3 = devnet.genesis.validators[3]!;
    const remove = buildValidatorVote({
      chainId,
      seed: validators[0]!.identity.seed,
      nonce: 0,
      fee: 25n,
      action: 'remove',
      validator: { name: v3.name, identityKey: v3.identityKey, blsKey: v3.blsKey },
    });
    expect(txSignatureSets(chain.world, remove, ctx()).map((s) => s.set.kind)).toEqual(['ed25519']);
  });

  it("evidence: the author's two signatures under its identity key in the state's validator set", () => {
    const sets = txSignatureSets(chain.world, evidence(accounts[0]!, 2), ctx());
    expect(sets.map((s) => [s.set.kind, s.field, s.code ?? 'TX_BAD_SIGNATURE'])).toEqual([
      ['ed25519', 'tx.signature', 'TX_BAD_SIGNATURE'],
      ['ed25519', 'tx.body', 'TX_INVALID_FIELD'],
      ['ed25519', 'tx.body', 'TX_INVALID_FIELD'],
    ]);
    expect(sets.slice(1).map((s) => s.set.kind === 'ed25519' && s.set.publicKey)).toEqual([
      validators[2]!.identity.publicKey,
      validators[2]!.identity.publicKey,
    ]);
    expect(sets.every((s) => verifySignatureSet(s.set))).toBe(true);
    expect(verifySignatureSet(txSignatureSets(chain.world, evidence(accounts[0]!, 2, true), ctx())[2]!.set)).toBe(false);
  });
});

/** The verdict of verifying `block` on the head, as "accepted" or "CODE field: message". */
async function verdict(block: Awaited<ReturnType<typeof buildBlock>>['block'], service: VerificationService | undefined): Promise<string> {
  const { verification: _, ...inline } = chain.nextBlockContext();
  const context = service === undefined ? inline : { ...inline, verification: { service, verifiedTxs: new VerifiedTxs(100) } };
  try {
    await verifyBlock({ context, block });
    return 'accepted';
  } catch (e) {
    if (isJouleError(e)) return `${e.code} ${e.message}`;
    throw e;
  }
}

describe('block verification with signatures verified beforehand', () => {
  // Each candidate from its own sender (nonce 0), so any subset in any order builds.
  const candidates: Tx[] = [
    transfer(accounts[0]!),
    forgedEnvelope(transfer(accounts[1]!)),
    addVote(0, goodPop),
    addVote(1, new Uint8Array(96).fill(0x5a)),
    evidence(accounts[2]!, 2),
    evidence(accounts[3]!, 3, true),
    forgedEnvelope(evidence(accounts[4]!, 1)),
  ];

  it('gives the verdict, naming the same tx, that checking every signature during execution gives (property)', async () => {
    const head = chain.head;
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(candidates, { minLength: 1 }), async (txs) => {
        const { block } = await buildBlock({
          context: chain.nextBlockContext(),
          proposer: proposerOf(chain.validators, null, 0).address,
          round: 0,
          timestamp: head.header.timestamp + 1000,
          candidates: txs,
          signaturesVerified: true,
        });
        expect(block.txs).toHaveLength(txs.length);
        const inline = await verdict(block, undefined);
        expect(await verdict(block, new SameThreadVerifier())).toBe(inline);
        expect(await verdict(block, pool)).toBe(inline);
        expect(await verdict(block, stopped)).toBe(inline); // a service that fails changes no verdict
        const bad = txs.findIndex((t) => t !== candidates[0] && t !== candidates[2] && t !== candidates[4]);
        expect(inline).toMatch(bad < 0 ? /^accepted$/ : new RegExp(`^BLOCK_INVALID txs\\[${bad}\\]: `));
      }),
      { numRuns: 30 },
    );
  });
});
