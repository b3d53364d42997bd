import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import { isJouleError } from '../../core/errors.ts';
import { commitSealBytes } from '../../core/block.ts';
import { addressFromPublicKey, blsSign } from '../../core/keys.ts';
import { bitmapFromIndexes } from '../../core/validators.ts';
import type { SignatureSet } from '../../core/signature-sets.ts';
import { buildTransfer } from '../../core/tx/transfer.ts';
import { decodeTx, encodeTx, type Tx } from '../../core/tx.ts';
import { genesisHash, generateDevnet } from '../../genesis/index.ts';
import { Mempool } from '../../mempool/index.ts';
import { buildBlock } from '../blocks/block-builder.ts';
import { verifyNextBlock } from '../blocks/block-import.ts';
import { Chain } from '../chain/chain.ts';
import { SameThreadVerifier } from '../verify/same-thread.ts';
import type { VerificationService, VerifyOptions } from '../verify/service.ts';
import { VerifiedTxs } from '../verify/verified-txs.ts';
import { TxAdmission } from './admission.ts';
import type { AdmissionMetrics } from './metrics.ts';

const devnet = generateDevnet({ validators: 1, accounts: 2, genesisTime: 1_700_000_000_000 });
const { chainId } = devnet.genesis;
const alice = devnet.accountKeys[0]!.keyPair;
const bob = devnet.accountKeys[1]!.keyPair;
const validator = devnet.validatorKeys[0]!;

const transfer = (from: typeof alice, nonce: number): Tx =>
  buildTransfer({ chainId, seed: from.seed, nonce, fee: 10n, to: addressFromPublicKey(validator.identity.publicKey), amount: 1n });

/** Holds every job until `release`, then answers them in the order given (the pool finishes batches in any order); or `take`, then `finish`. */
class HeldVerifier implements VerificationService {
  readonly inner = new SameThreadVerifier();
  readonly held: { sets: readonly SignatureSet[]; opts: VerifyOptions; resolve: (r: number[]) => void }[] = [];
  /** Jobs taken for a worker and not answered yet (`take`, `finish`). */
  private readonly running: typeof this.held = [];
  /** Jobs answered without a check because their caller no longer needed them (skipIf), as the pool does. */
  skipped = 0;
  findInvalid(sets: readonly SignatureSet[], opts: VerifyOptions): Promise<number[]> {
    return new Promise((resolve) => this.held.push({ sets, opts, resolve }));
  }
  async verify(sets: readonly SignatureSet[], opts: VerifyOptions): Promise<boolean> {
    return (await this.findInvalid(sets, opts)).length === 0;
  }
  findInvalidTogether(): Promise<never> {
    throw new Error('admission never judges sets together');
  }
  async release(order: 'reverse' | 'forward'): Promise<void> {
    const jobs = order === 'reverse' ? [...this.held].reverse() : [...this.held];
    this.held.length = 0;
    for (const job of jobs) if (this.kept(job)) await this.answer(job);
  }
  /** Takes every held job for a worker as the pool does (asking its skipIf), without answering it yet (`finish`). */
  take(): void {
    for (const job of this.held.splice(0)) if (this.kept(job)) this.running.push(job);
  }
  async finish(): Promise<void> {
    for (const job of this.running.splice(0)) await this.answer(job);
  }
  /** Asks the job's skipIf at its turn, as the pool does: a skipped job is answered at once, without a check. */
  private kept(job: (typeof this.held)[number]): boolean {
    if (job.opts.skipIf?.() !== true) return true;
    this.skipped++;
    job.resolve([]);
    return false;
  }
  private async answer(job: (typeof this.held)[number]): Promise<void> {
    job.resolve(await this.inner.findInvalid(job.sets, job.opts));
  }
  async close(): Promise<void> {}
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(service: VerificationService, opts: { maxPending?: number; waiting?: { txs: number; bytes: number; ms: number } } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'joule-admission-'));
  /** Checks under way that admission or block import waited for (the verify metrics' `joined`). */
  const joined = { admission: 0, block: 0 };
  const verifiedTxs = new VerifiedTxs(1000, { joined: (waiter) => void joined[waiter]++ });
  const chain = await Chain.open(dir, devnet.genesis, genesisHash(devnet.genesis), { signatures: { service, verifiedTxs } });
  cleanups.push(async () => {
    await chain.close();
    await rm(dir, { recursive: true, force: true });
  });
  const mempool = new Mempool({ maxTxs: 100, maxBytes: 1 << 20, maxPerSender: 50, maxNonceGap: 50, replaceBumpPercent: 10 });
  const counted = new Map<string, number>();
  const metrics: AdmissionMetrics = { rejected: (code) => void counted.set(code, (counted.get(code) ?? 0) + 1), poolSize() {}, tierSize() {}, waiting() {} };
  const admission = new TxAdmission(chain, mempool, metrics, opts);
  const rejections = async (code: string) => counted.get(code) ?? 0;
  return { chain, mempool, admission, rejections, joined };
}

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'admitted',
    (e: unknown) => (isJouleError(e) ? `${e.code} ${e.message}` : String(e)),
  );

describe('async admission', () => {
  it("admits one sender's txs in submission order, whatever order their verifications finish in", async () => {
    const held = new HeldVerifier();
    const { mempool, admission } = await setup(held);
    const added: number[] = [];
    const add = mempool.add.bind(mempool);
    mempool.add = (tx, meta) => (added.push(tx.nonce), add(tx, meta));
    const txs = [0, 1, 2, 3, 4].map((n) => transfer(alice, n));
    const results = txs.map((tx) => admission.submit(tx.bytes, 'rpc'));
    expect(admission.pending).toBe(5);
    // Plain txs wait at mempool priority, ahead of the telemetry firehose (admission-telemetry.test.ts).
    expect(held.held.map((j) => j.opts.priority)).toEqual(Array(5).fill('mempool'));
    await held.release('reverse');
    expect(await Promise.all(results.map(codeOf))).toEqual(Array(5).fill('admitted'));
    expect(added).toEqual([0, 1, 2, 3, 4]);
    expect(mempool.size).toBe(5);
    expect(admission.pending).toBe(0);
  });

  it("refuses another tx of the node's own sender at a nonce it holds (MEMPOOL_NONCE_TAKEN), also one taken while the tx was checked, and counts past the held nonces", async () => {
    const held = new HeldVerifier();
    const { mempool, admission, rejections } = await setup(held);
    const ours = new Set<number>([0]);
    const aliceAddress = addressFromPublicKey(alice.publicKey);
    admission.ownNonces({
      address: aliceAddress,
      takes: (tx) => toHex(tx.from) === toHex(aliceAddress) && ours.has(tx.nonce),
      get after() {
        return Math.max(0, ...[...ours].map((n) => n + 1));
      },
    });
    expect(admission.nextNonce(aliceAddress)).toBe(1);
    expect(admission.nextNonce(addressFromPublicKey(bob.publicKey))).toBe(0);
    expect(await codeOf(admission.submit(transfer(alice, 0).bytes, 'rpc'))).toMatch(/^MEMPOOL_NONCE_TAKEN .*next free nonce is 1/);
    // Nonce 1 is free when submitted, and taken by the node's sender while its signature is checked.
    const racing = admission.submit(transfer(alice, 1).bytes, 'gossip');
    ours.add(1);
    await held.release('forward');
    expect(await codeOf(racing)).toMatch(/^MEMPOOL_NONCE_TAKEN/);
    expect(await rejections('MEMPOOL_NONCE_TAKEN')).toBe(2);
    // Another sender, or a free nonce, goes in as ever.
    const fine = [admission.submit(transfer(alice, 2).bytes, 'rpc'), admission.submit(transfer(bob, 0).bytes, 'rpc')];
    await held.release('forward');
    expect(await Promise.all(fine.map(codeOf))).toEqual(['admitted', 'admitted']);
    expect(mempool.size).toBe(2);
    expect(admission.nextNonce(aliceAddress)).toBe(2);
  });

  it('rejects a bad signature as TX_BAD_SIGNATURE naming the field, counts it, and admits the next tx of that sender', async () => {
    const { mempool, admission, rejections } = await setup(new SameThreadVerifier());
    const good = transfer(bob, 0);
    const signature = new Uint8Array(good.signature);
    signature[3]! ^= 1;
    const forged = decodeTx(encodeTx({ ...good, signature }));
    const [a, b] = [admission.submit(forged.bytes, 'gossip'), admission.submit(transfer(bob, 1).bytes, 'gossip')];
    expect(await codeOf(a)).toBe('TX_BAD_SIGNATURE tx.signature: signature does not verify');
    expect(await codeOf(b)).toBe('admitted'); // a future nonce: queued, as before
    expect(await rejections('TX_BAD_SIGNATURE')).toBe(1);
    expect(mempool.has(forged.hash)).toBe(false);
  });

  it('runs the cheap rules before any verification: a stale, unfunded or duplicate tx never reaches the service', async () => {
    const service = new SameThreadVerifier();
    const { admission } = await setup(service);
    const tx = transfer(alice, 0);
    expect(await codeOf(admission.submit(tx.bytes, 'rpc'))).toBe('admitted');
    expect(service.submitted).toBe(1);
    expect(await codeOf(admission.submit(tx.bytes, 'rpc'))).toMatch(/^MEMPOOL_DUPLICATE/);
    const broke = buildTransfer({ chainId, seed: alice.seed, nonce: 1, fee: 10n, to: addressFromPublicKey(bob.publicKey), amount: 2n ** 63n });
    expect(await codeOf(admission.submit(broke.bytes, 'rpc'))).toMatch(/^TX_INSUFFICIENT_BALANCE/);
    expect(service.submitted).toBe(1);
  });

  it('checks the rules again when the head moved during verification: a nonce spent meanwhile is refused', async () => {
    const held = new HeldVerifier();
    const { chain, mempool, admission } = await setup(held);
    const pending = admission.submit(transfer(alice, 0).bytes, 'rpc');
    // Meanwhile a block spends alice's nonce 0 with another tx.
    const other = buildTransfer({ chainId, seed: alice.seed, nonce: 0, fee: 11n, to: addressFromPublicKey(bob.publicKey), amount: 2n });
    const head = chain.head;
    const built = await buildBlock({
      context: chain.nextBlockContext(),
      proposer: addressFromPublicKey(validator.identity.publicKey),
      round: 0,
      timestamp: head.header.timestamp + 1000,
      candidates: [other],
      signaturesVerified: true,
    });
    const seal = blsSign(validator.consensus.secretKey, commitSealBytes(chainId, 1, 0, built.hash));
    await chain.commit(built, { height: 1, round: 0, blockHash: built.hash, aggregateSignature: seal, signers: bitmapFromIndexes(1, [0]) });
    await held.release('forward');
    expect(await codeOf(pending)).toMatch(/^TX_NONCE_TOO_LOW/);
    expect(held.skipped).toBe(1); // its verification was moot by its turn, and not made
    expect(held.inner.submitted).toBe(0);
    expect(mempool.size).toBe(0);
  });

  it('pools a tx with its tier and per-byte priority, and re-validation after a block drops what the new head refuses', async () => {
    const service = new SameThreadVerifier();
    const { chain, mempool, admission, rejections } = await setup(service);
    const pooled = transfer(alice, 0);
    await admission.submit(pooled.bytes, 'rpc');
    expect(mempool.meta(pooled.hash)).toMatchObject({ tier: 'peer_to_peer', priority: (10n * 1_000_000n) / BigInt(pooled.bytes.length) });
    // Another node's block spends alice's nonce 0; nothing has told the pool yet.
    const other = buildTransfer({ chainId, seed: alice.seed, nonce: 0, fee: 11n, to: addressFromPublicKey(bob.publicKey), amount: 2n });
    const built = await buildBlock({
      context: chain.nextBlockContext(),
      proposer: addressFromPublicKey(validator.identity.publicKey),
      round: 0,
      timestamp: chain.head.header.timestamp + 1000,
      candidates: [other],
      signaturesVerified: true,
    });
    const seal = blsSign(validator.consensus.secretKey, commitSealBytes(chainId, 1, 0, built.hash));
    await chain.commit(built, { height: 1, round: 0, blockHash: built.hash, aggregateSignature: seal, signers: bitmapFromIndexes(1, [0]) });
    expect(mempool.has(pooled.hash)).toBe(true);
    expect(admission.revalidate()).toBe(1);
    expect(mempool.has(pooled.hash)).toBe(false);
    expect(await rejections('TX_NONCE_TOO_LOW')).toBe(1);
  });

  it('makes a submission wait while too many txs are being verified, in order, and sheds with RATE_LIMITED beyond the waiting room', async () => {
    const held = new HeldVerifier();
    const { mempool, admission, rejections } = await setup(held, { maxPending: 2, waiting: { txs: 2, bytes: 1 << 20, ms: 60_000 } });
    const first = [admission.submit(transfer(alice, 0).bytes, 'rpc'), admission.submit(transfer(bob, 0).bytes, 'rpc')];
    const waited = [admission.submit(transfer(alice, 1).bytes, 'rpc'), admission.submit(transfer(alice, 2).bytes, 'gossip')];
    expect(admission.waitingCount).toBe(2);
    expect(held.held).toHaveLength(2); // the waiters cost no verification yet
    expect(await codeOf(admission.submit(transfer(alice, 1).bytes, 'gossip'))).toMatch(/^MEMPOOL_DUPLICATE/);
    expect(await codeOf(admission.submit(transfer(bob, 1).bytes, 'rpc'))).toMatch(/^RATE_LIMITED tx: 2 transactions are waiting/);
    expect(await rejections('RATE_LIMITED')).toBe(1);
    await held.release('forward');
    expect(await Promise.all(first.map(codeOf))).toEqual(['admitted', 'admitted']);
    expect(admission.waitingCount).toBe(0);
    await held.release('reverse');
    expect(await Promise.all(waited.map(codeOf))).toEqual(['admitted', 'admitted']);
    expect(mempool.size).toBe(4);
  });

  it('holds submissions back while a consensus step runs (whileHeld), then admits them in order', async () => {
    const service = new SameThreadVerifier();
    const { mempool, admission } = await setup(service);
    let finish!: () => void;
    const step = admission.whileHeld(() => new Promise<string>((resolve) => (finish = () => resolve('built'))));
    const during = [admission.submit(transfer(alice, 0).bytes, 'rpc'), admission.submit(transfer(alice, 1).bytes, 'gossip')];
    await new Promise((r) => setImmediate(r));
    expect(admission.waitingCount).toBe(2);
    expect(service.submitted).toBe(0); // no verification, no pool work during the step
    finish();
    expect(await step).toBe('built');
    expect(await Promise.all(during.map(codeOf))).toEqual(['admitted', 'admitted']);
    expect(mempool.size).toBe(2);
  });

  it('refuses a waiter with RATE_LIMITED when its time is up, without verifying it', async () => {
    const held = new HeldVerifier();
    const { admission, rejections } = await setup(held, { maxPending: 1, waiting: { txs: 10, bytes: 1 << 20, ms: 30 } });
    const first = admission.submit(transfer(alice, 0).bytes, 'rpc');
    const late = admission.submit(transfer(bob, 0).bytes, 'rpc');
    expect(await codeOf(late)).toMatch(/^RATE_LIMITED tx: waited 30 ms/);
    expect(await rejections('RATE_LIMITED')).toBe(1);
    expect(held.held).toHaveLength(1);
    await held.release('forward');
    expect(await codeOf(first)).toBe('admitted');
  });

  it('refuses a waiter that is stale by its turn with the rule, not a verification', async () => {
    const held = new HeldVerifier();
    const { admission } = await setup(held, { maxPending: 1 });
    const first = admission.submit(transfer(alice, 0).bytes, 'rpc');
    const again = admission.submit(transfer(alice, 0).bytes, 'gossip');
    expect(await codeOf(again)).toMatch(/^MEMPOOL_DUPLICATE/);
    const replay = admission.submit(
      buildTransfer({ chainId, seed: alice.seed, nonce: 0, fee: 10n, to: addressFromPublicKey(bob.publicKey), amount: 2n }).bytes,
      'rpc',
    );
    await held.release('forward');
    expect(await codeOf(first)).toBe('admitted');
    expect(await codeOf(replay)).toMatch(/^MEMPOOL/); // same sender and nonce, no fee bump: refused by the pool's rule when its turn came
    expect(held.held).toHaveLength(0);
  });
});

describe('one verified-signature cache for admission and block import', () => {
  it('a tx admitted here is not verified again in a block; a tx this node never admitted is, once', async () => {
    const service = new SameThreadVerifier();
    const { chain, admission } = await setup(service);
    const admitted = transfer(alice, 0);
    const stranger = transfer(bob, 0);
    await admission.submit(admitted.bytes, 'rpc');
    expect(service.submitted).toBe(1);
    const head = chain.head;
    const { block } = await buildBlock({
      context: chain.nextBlockContext(),
      proposer: addressFromPublicKey(validator.identity.publicKey),
      round: 0,
      timestamp: head.header.timestamp + 1000,
      candidates: [admitted, stranger],
      signaturesVerified: true,
    });
    const executed = await verifyNextBlock(chain, block);
    expect(executed.txs).toHaveLength(2);
    expect(service.submitted).toBe(2); // only the stranger's envelope
    await verifyNextBlock(chain, block); // a re-proposal of the same block: both are known now
    expect(service.submitted).toBe(2);
  });
});

/** A block at the next height carrying `txs`, built without checking their signatures (as a faulty proposer might). */
async function blockOf(chain: Chain, txs: Tx[]) {
  const { block } = await buildBlock({
    context: chain.nextBlockContext(),
    proposer: addressFromPublicKey(validator.identity.publicKey),
    round: 0,
    timestamp: chain.head.header.timestamp + 1000,
    candidates: txs,
    signaturesVerified: true,
  });
  return block;
}

const settledYet = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
};

/** Waits (at most 2 s) until `ready` holds: block import reads the state from disk before it looks at signatures. */
async function waitUntil(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !ready(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(ready()).toBe(true);
}

describe('a check under way is not made twice', () => {
  it("block import waits for admission's check already in a worker instead of verifying the tx again", async () => {
    const pool = new HeldVerifier();
    const { chain, mempool, admission, joined } = await setup(pool);
    const tx = transfer(alice, 0);
    const admitted = admission.submit(tx.bytes, 'gossip');
    pool.take(); // admission's job is in a worker now
    const verifying = verifyNextBlock(chain, await blockOf(chain, [tx]));
    await waitUntil(() => joined.block === 1); // block import has come to the tx, and joined admission's check
    expect(await settledYet(verifying)).toBe(false); // it waits for admission's verdict...
    expect(pool.held).toHaveLength(0); // ...and asked for no check of its own
    await pool.finish();
    expect((await verifying).txs).toHaveLength(1);
    expect(await codeOf(admitted)).toBe('admitted');
    expect(mempool.has(tx.hash)).toBe(true);
    expect(pool.inner.submitted).toBe(1); // the one envelope, verified once
    expect(joined).toEqual({ admission: 0, block: 1 });
  });

  it("admission waits for block import's check under way at its turn, and pools the tx without verifying it again", async () => {
    const pool = new HeldVerifier();
    const { chain, mempool, admission, joined } = await setup(pool);
    const tx = transfer(alice, 0);
    const verifying = verifyNextBlock(chain, await blockOf(chain, [tx]));
    await waitUntil(() => pool.held.length > 0);
    expect(pool.held.map((j) => j.opts.priority)).toEqual(['block']);
    const admitted = admission.submit(tx.bytes, 'gossip');
    pool.take(); // the block's job goes to a worker; admission's, at its turn, finds it under way
    expect(await settledYet(admitted)).toBe(false);
    await pool.finish();
    expect((await verifying).txs).toHaveLength(1);
    expect(await codeOf(admitted)).toBe('admitted');
    expect(mempool.has(tx.hash)).toBe(true);
    expect(pool.inner.submitted).toBe(1);
    expect(joined).toEqual({ admission: 1, block: 0 });
  });

  it('a forged tx whose admission fails under way is still refused by the block it is in, naming it, and admission verifies what a failed block check left', async () => {
    const pool = new HeldVerifier();
    const { chain, admission, joined } = await setup(pool);
    const good = transfer(bob, 0);
    const signature = new Uint8Array(good.signature);
    signature[3]! ^= 1;
    const forged = decodeTx(encodeTx({ ...good, signature }));
    const admitted = admission.submit(forged.bytes, 'gossip');
    pool.take();
    const verifying = verifyNextBlock(chain, await blockOf(chain, [forged]));
    await waitUntil(() => joined.block === 1);
    expect(pool.held).toHaveLength(0);
    await pool.finish();
    expect(await codeOf(admitted)).toBe('TX_BAD_SIGNATURE tx.signature: signature does not verify');
    // The executor verified it itself: the verdict, and the tx it names, of a check without the shared one.
    const refused = new RegExp(`^BLOCK_INVALID txs\\[0\\]: tx 0 \\(${toHex(forged.hash)}\\) is invalid: TX_BAD_SIGNATURE`);
    expect(await codeOf(verifying)).toMatch(refused);

    // The other way round: block import's check fails under way; admission gives its own verdict.
    const verifyingAgain = verifyNextBlock(chain, await blockOf(chain, [forged]));
    await waitUntil(() => pool.held.length > 0);
    const again = admission.submit(forged.bytes, 'gossip');
    pool.take();
    await pool.finish();
    expect(await codeOf(verifyingAgain)).toMatch(refused);
    await waitUntil(() => pool.held.length > 0); // admission's own check, the block's having failed
    pool.take();
    await pool.finish();
    expect(await codeOf(again)).toBe('TX_BAD_SIGNATURE tx.signature: signature does not verify');
    expect(joined).toEqual({ admission: 1, block: 1 });
  });
});
