import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isJouleError } from '../../core/errors.ts';
import { addressFromPublicKey, blsGenerate, ed25519Generate } from '../../core/keys.ts';
import { signProofOfPossession } from '../../core/pop.ts';
import { buildTransfer } from '../../core/tx/transfer.ts';
import { buildValidatorVote } from '../../core/tx/validator-vote.ts';
import { decodeTx, encodeTx, type Tx } from '../../core/tx.ts';
import { genesisHash, generateDevnet } from '../../genesis/index.ts';
import { buildBlock } from './block-builder.ts';
import { verifyNextBlock } from './block-import.ts';
import { Chain } from '../chain/chain.ts';
import { SameThreadVerifier } from '../verify/same-thread.ts';
import type { VerificationService } from '../verify/service.ts';
import { VerifiedTxs } from '../verify/verified-txs.ts';
import { WorkerPoolVerifier } from '../verify/worker-pool.ts';

const devnet = generateDevnet({ validators: 1, accounts: 1, genesisTime: 1_700_000_000_000 });
const { chainId } = devnet.genesis;
const validator = devnet.validatorKeys[0]!;
const candidate = { identity: ed25519Generate(), bls: blsGenerate() };

/** A vote of the devnet's validator to add `candidate`, with the given proof of possession. */
function addVote(pop: Uint8Array): Tx {
  return buildValidatorVote({
    chainId,
    seed: validator.identity.seed,
    nonce: 0,
    fee: 25n,
    action: 'add',
    validator: { name: 'candidate', identityKey: candidate.identity.publicKey, blsKey: candidate.bls.publicKey, blsProofOfPossession: pop },
  });
}

/** What verification throws, as "CODE field: message". */
async function refusal(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (e) {
    if (isJouleError(e)) return `${e.code} ${e.message}`;
    throw e;
  }
  return 'accepted';
}

// Issue 6, finding 5: a block's txs are verified in full by every node that did not admit
// them itself; a proposer that skips verification cannot get a garbage proof through.
// Issue 7: whichever verification service checks them (this thread, or a worker pool).
describe.each([
  ['same thread', () => new SameThreadVerifier()],
  ['worker pool', () => new WorkerPoolVerifier({ workers: 1 })],
])('block verification of txs this node never admitted (%s)', (_name, service: () => VerificationService) => {
  let dir: string;
  let chain: Chain;
  let verifier: VerificationService;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'joule-block-verifier-'));
    verifier = service();
    chain = await Chain.open(dir, devnet.genesis, genesisHash(devnet.genesis), { signatures: { service: verifier, verifiedTxs: new VerifiedTxs(100) } });
  });
  afterEach(async () => {
    await chain.close();
    await verifier.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The block a proposer that trusts its candidates (verification skipped) builds from `txs`. */
  async function proposed(txs: Tx[]) {
    const head = chain.head;
    const built = await buildBlock({
      context: chain.nextBlockContext(),
      proposer: addressFromPublicKey(validator.identity.publicKey),
      round: 0,
      timestamp: head.header.timestamp + 1000,
      candidates: txs,
      signaturesVerified: true,
    });
    expect(built.txs).toHaveLength(txs.length);
    return built.block;
  }

  it('rejects a block with a validator-vote (add) whose proof of possession is garbage, naming the tx', async () => {
    const block = await proposed([addVote(new Uint8Array(96).fill(0x5a))]);
    expect(await refusal(() => verifyNextBlock(chain, block))).toMatch(
      /^BLOCK_INVALID txs\[0\]: .*TX_BAD_SIGNATURE: tx\.body: a signature inside the body does not verify/,
    );
    // Failing once does not make the tx "verified": a second look rejects it again.
    expect(await refusal(() => verifyNextBlock(chain, block))).toMatch(/^BLOCK_INVALID txs\[0\]/);
  });

  it('accepts the same vote with a genuine proof (control)', async () => {
    const pop = signProofOfPossession(chainId, candidate.bls.secretKey, candidate.bls.publicKey, candidate.identity.publicKey);
    const block = await proposed([addVote(pop)]);
    expect(await refusal(() => verifyNextBlock(chain, block))).toBe('accepted');
  });

  it('rejects a tx whose envelope signature does not verify, naming it', async () => {
    const account = devnet.accountKeys[0]!.keyPair;
    const good = buildTransfer({ chainId, seed: account.seed, nonce: 0, fee: 10n, to: addressFromPublicKey(validator.identity.publicKey), amount: 1n });
    const signature = new Uint8Array(good.signature);
    signature[5]! ^= 1;
    const block = await proposed([decodeTx(encodeTx({ ...good, signature }))]);
    expect(await refusal(() => verifyNextBlock(chain, block))).toMatch(/^BLOCK_INVALID txs\[0\]: .*TX_BAD_SIGNATURE: tx\.signature/);
  });
});
