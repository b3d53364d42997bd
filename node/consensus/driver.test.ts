/**
 * The consensus driver around a real chain (LevelDB in a temp directory), real WAL and
 * real signatures; the other three validators of a 4-validator devnet are played by the
 * test, which signs their messages with their devnet keys. Issue 6, findings 2 and 8.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commitSealBytes, encodeBlock } from '../../core/block.ts';
import { addressFromPublicKey, blsSign, ed25519Sign } from '../../core/keys.ts';
import { decodeMessage, encodeMessage, type ConsensusMessage } from '../../consensus/messages.ts';
import { messageSigningBytes, type Unsigned } from '../../core/signed-core.ts';
import { proposerOf } from '../../consensus/proposer.ts';
import { defaultCrypto, keySigner } from '../../consensus/crypto.ts';
import { ValidatorSet } from '../../core/validators.ts';
import { encodeWalRecord } from '../../consensus/wal-record.ts';
import { genesisHash, generateDevnet } from '../../genesis/index.ts';
import { Mempool } from '../../mempool/index.ts';
import { NO_CONSENSUS_METRICS } from './metrics.ts';
import { buildBlock } from '../blocks/block-builder.ts';
import { Chain } from '../chain/chain.ts';
import { ConsensusDriver } from './driver.ts';
import { ConsensusRecordLog } from './wal.ts';
import { silentLogger } from '../log.ts';
import { SerialQueue } from '../serial-queue.ts';
import { appendEmptyBlocks } from '../testing/chain.ts';

const devnet = generateDevnet({ validators: 4, accounts: 0, genesisTime: 1_700_000_000_000 });
const { chainId, params } = devnet.genesis;
const keys = devnet.validatorKeys;
const address = (i: number) => addressFromPublicKey(keys[i]!.identity.publicKey);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A driver for devnet validator `me` on a fresh chain; everything it publishes is recorded. */
async function setup(me: number, clock: () => number) {
  const dir = await mkdtemp(join(tmpdir(), 'joule-driver-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const chain = await Chain.open(join(dir, 'data'), devnet.genesis, genesisHash(devnet.genesis));
  cleanups.push(() => chain.close());
  const wal = ConsensusRecordLog.open(join(dir, 'consensus.wal'));
  cleanups.push(() => wal.close());
  const queue = new SerialQueue((e) => {
    throw e;
  });
  const published: ConsensusMessage[] = [];
  const violations: string[] = [];
  const driver = new ConsensusDriver({
    chain,
    queue,
    wal,
    clock,
    mempool: new Mempool({ maxTxs: 100, maxBytes: 1 << 20, maxPerSender: 10, maxNonceGap: 10, replaceBumpPercent: 10 }),
    signer: keySigner(address(me), keys[me]!.identity.seed, keys[me]!.consensus.secretKey),
    crypto: defaultCrypto,
    logger: silentLogger(),
    metrics: NO_CONSENSUS_METRICS,
    publish: (bytes) => published.push(decodeMessage(bytes)),
    sendDirect: () => {},
    commit: async (executed, cert) => void (await chain.commit(executed, cert)),
    onEvidence: () => {},
    onSyncNeeded: () => {},
    onSafetyViolation: (message) => violations.push(message),
  });
  cleanups.push(() => driver.stop());
  return { dir, chain, wal, queue, driver, published, violations };
}

const sign = (i: number, m: Unsigned<ConsensusMessage>): ConsensusMessage =>
  ({ ...m, signature: ed25519Sign(keys[i]!.identity.seed, messageSigningBytes(chainId, m)) }) as ConsensusMessage;

/** Validator `proposer`'s round-0 block for height 1 with `timestamp`, and its PROPOSAL. */
async function proposal(chain: Chain, proposer: number, timestamp: number) {
  const built = await buildBlock({
    context: chain.nextBlockContext(),
    proposer: address(proposer),
    round: 0,
    timestamp,
    candidates: [],
    signaturesVerified: true,
  });
  const block = encodeBlock(built.block);
  return {
    hash: built.hash,
    bytes: encodeMessage(sign(proposer, { kind: 0, height: 1, round: 0, author: address(proposer), digest: built.hash, block, justification: null })),
  };
}

/** The scheduled proposer of (height 1, round 0); the driver under test runs another validator. */
const scheduled = proposerOf(new ValidatorSet(devnet.genesis.validators), null, 0).address;
const proposerIndex = keys.findIndex((_, i) => Buffer.compare(address(i), scheduled) === 0);
const me = (proposerIndex + 1) % 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('consensus driver', () => {
  it('finding 8: prunes the WAL of heights the chain already holds, at start and when sync moves the head', async () => {
    const { chain, wal, queue, driver, dir } = await setup(me, Date.now);
    const record = (h: number) =>
      encodeWalRecord({ type: 'signed', message: sign(me, { kind: 1, height: h, round: 0, author: address(me), digest: new Uint8Array(32) }) });
    for (const h of [1, 2, 3]) wal.persist(h, record(h));
    await appendEmptyBlocks(chain, devnet, 2);
    await driver.start();
    expect(ConsensusRecordLog.open(join(dir, 'consensus.wal')).records.map((r) => (r.type === 'signed' ? r.message.height : r.height))).toEqual([3]);
    // Sync imports blocks 3 and 4 without this node's commit: the WAL must not keep their records.
    wal.persist(4, record(4));
    await appendEmptyBlocks(chain, devnet, 2);
    await queue.push(() => driver.headAdvanced());
    const heights = ConsensusRecordLog.open(join(dir, 'consensus.wal')).records.map((r) => (r.type === 'signed' ? r.message.height : r.height));
    expect(heights.every((h) => h >= 5)).toBe(true);
  });

  it('finding 8: a certificate for a height the chain holds with ANOTHER block halts the node', async () => {
    const { chain, queue, driver, violations, published } = await setup(me, Date.now);
    await driver.start();
    const x = await proposal(chain, proposerIndex, Date.now());
    driver.onMessage(x.bytes);
    await queue.push(() => undefined);
    expect(published.map((m) => m.kind)).toEqual([1]); // validated and prepared
    // Meanwhile sync stores a different block at height 1 (possible only if safety broke).
    await appendEmptyBlocks(chain, devnet, 1);
    expect(chain.head.hash).not.toEqual(x.hash);
    for (const i of [0, 1, 2, 3].filter((i) => i !== me)) {
      const seal = blsSign(keys[i]!.consensus.secretKey, commitSealBytes(chainId, 1, 0, x.hash));
      driver.onMessage(encodeMessage(sign(i, { kind: 2, height: 1, round: 0, author: address(i), digest: x.hash, seal })));
    }
    await queue.push(() => undefined);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatch(/two conflicting commit certificates/);
  });

  it('finding 2: a proposal slightly ahead of the local clock is held, then prepared; far ahead it is premature, not invalid', async () => {
    let now = 1_700_000_100_000;
    const { chain, queue, driver, published } = await setup(me, () => now);
    await driver.start();
    const near = await proposal(chain, proposerIndex, now + params.maxClockDriftMs + 60);
    driver.onMessage(near.bytes);
    await queue.push(() => undefined);
    expect(published).toEqual([]); // held, not judged
    now += 60;
    await sleep(120);
    await queue.push(() => undefined);
    expect(published.map((m) => m.kind)).toEqual([1]);
  });

  it("finding 2: a proposal beyond the hold is answered 'premature' (no vote), and the node still signs the same block once it is certified", async () => {
    const now = 1_700_000_100_000;
    const { chain, queue, driver, published, violations } = await setup(me, () => now);
    await driver.start();
    const far = await proposal(chain, proposerIndex, now + params.maxClockDriftMs + params.requestTimeoutMs + 1);
    driver.onMessage(far.bytes);
    await queue.push(() => undefined);
    expect(published).toEqual([]);
    for (const i of [0, 1, 2, 3].filter((i) => i !== me)) {
      const seal = blsSign(keys[i]!.consensus.secretKey, commitSealBytes(chainId, 1, 0, far.hash));
      driver.onMessage(encodeMessage(sign(i, { kind: 2, height: 1, round: 0, author: address(i), digest: far.hash, seal })));
    }
    await queue.push(() => undefined);
    // A commit quorum decided it: validated without the clock, and committed.
    expect(chain.height).toBe(1);
    expect(chain.head.hash).toEqual(far.hash);
    expect(violations).toEqual([]);
  });
});
