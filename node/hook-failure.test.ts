/**
 * An end-of-block hook that throws (vm/README.md "End-of-block hooks") stops the node: on
 * every path that executes a block (a proposal to vote on, a block from sync) the error
 * reaches the node's serial queue, whose handler halts the node (node.ts), and it is never
 * a verdict on the block or its sender. The registry has no hooks yet, so this test
 * replaces vm/'s registry with one that has a hook failing from a chosen height.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeBlock } from '../core/block.ts';
import { ErrorCode, isFatal } from '../core/errors.ts';
import { addressFromPublicKey, ed25519Sign } from '../core/keys.ts';
import { messageSigningBytes } from '../core/signed-core.ts';
import { ValidatorSet } from '../core/validators.ts';
import { defaultCrypto, keySigner } from '../consensus/crypto.ts';
import { encodeMessage, type ConsensusMessage, type Proposal } from '../consensus/messages.ts';
import { proposerOf } from '../consensus/proposer.ts';
import { genesisHash, generateDevnet, type Devnet } from '../genesis/index.ts';
import { Mempool } from '../mempool/index.ts';
import type { EndBlockHook } from '../vm/index.ts';
import { buildBlock } from './blocks/block-builder.ts';
import { Chain } from './chain/chain.ts';
import type { ConsensusMetrics } from './consensus/metrics.ts';
import { ConsensusDriver } from './consensus/driver.ts';
import { ConsensusRecordLog } from './consensus/wal.ts';
import { silentLogger } from './log.ts';
import { SerialQueue } from './serial-queue.ts';
import { BlockSync } from './sync/block-sync.ts';
import { NO_SYNC_METRICS } from './sync/metrics.ts';
import { appendEmptyBlocks } from './testing/chain.ts';

const failAt = vi.hoisted(() => ({ height: Number.POSITIVE_INFINITY }));

vi.mock('../vm/registry.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../vm/registry.ts')>();
  const broken: EndBlockHook = {
    name: 'test-broken',
    order: 0,
    workPerBlock: 1,
    prefixes: () => [],
    run(_state, block) {
      if (block.height >= failAt.height) throw new TypeError('cannot read properties of undefined');
      return [];
    },
  };
  return { ...original, endBlockHooks: () => [broken] };
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  failAt.height = Number.POSITIVE_INFINITY;
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function openChain(devnet: Devnet): Promise<{ dir: string; chain: Chain }> {
  const dir = await mkdtemp(join(tmpdir(), 'joule-hook-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const chain = await Chain.open(join(dir, 'data'), devnet.genesis, genesisHash(devnet.genesis));
  cleanups.push(() => chain.close());
  return { dir, chain };
}

/** The queue node.ts runs everything on; what reaches its error handler is what the node halts on. */
function recordingQueue() {
  const errors: unknown[] = [];
  return { queue: new SerialQueue((e) => errors.push(e)), errors };
}

const hookFailures = (errors: unknown[]) => errors.filter(isFatal).map((e) => `${e.code} ${e.field}`);

describe('a failing end-of-block hook stops the node', () => {
  it('in sync: the block is not committed, the peer not blamed, and the queue gets HOOK_FAILED', async () => {
    const devnet = generateDevnet({ validators: 1, accounts: 0, genesisTime: 1_700_000_000_000 });
    const source = await openChain(devnet);
    const items = await appendEmptyBlocks(source.chain, devnet, 3);
    const { chain } = await openChain(devnet);
    failAt.height = 2;
    const { queue, errors } = recordingQueue();
    const penalties: string[] = [];
    const rejected: string[] = [];
    const sync = new BlockSync({
      chain,
      queue,
      logger: silentLogger(),
      p2p: {
        peers: () => ['peer-a'],
        requestStatus: async () => ({ height: 3, hash: new Uint8Array(32) }),
        requestBlocks: async (_peer, from, to) => items.slice(from - 1, to),
        penalize: async (peer, reason) => void penalties.push(`${peer}: ${reason}`),
      },
      metrics: { ...NO_SYNC_METRICS, rejected: (code) => void rejected.push(code) },
      commit: async (executed, cert) => void (await chain.commit(executed, cert)),
      afterImport: async () => {},
      config: { tickMs: 60_000 },
    });
    cleanups.push(() => sync.stop());
    const deadline = Date.now() + 10_000;
    while (errors.length === 0 && Date.now() < deadline) await sync.trigger().then(() => new Promise((r) => setTimeout(r, 10)));
    await sync.stop(); // what the node's halt does
    expect(errors.length).toBeGreaterThan(0);
    expect(new Set(errors.map((e) => (isFatal(e) ? `${e.code} ${e.field}` : String(e))))).toEqual(new Set([`${ErrorCode.HOOK_FAILED} endBlock.test-broken`]));
    expect(chain.height).toBe(1);
    expect(penalties).toEqual([]);
    expect(rejected).toEqual([]);
  });

  it('in consensus: a proposal this node cannot execute gets no vote and no invalid verdict; the queue gets HOOK_FAILED', async () => {
    const devnet = generateDevnet({ validators: 4, accounts: 0, genesisTime: 1_700_000_000_000 });
    const keys = devnet.validatorKeys;
    const address = (i: number) => addressFromPublicKey(keys[i]!.identity.publicKey);
    const scheduled = proposerOf(new ValidatorSet(devnet.genesis.validators), null, 0).address;
    const proposer = keys.findIndex((_, i) => Buffer.compare(address(i), scheduled) === 0);
    const me = (proposer + 1) % 4;
    const { dir, chain } = await openChain(devnet);
    const wal = ConsensusRecordLog.open(join(dir, 'consensus.wal'));
    cleanups.push(() => wal.close());
    const { queue, errors } = recordingQueue();
    const published: Uint8Array[] = [];
    const rejected: string[] = [];
    const metrics: ConsensusMetrics = {
      round() {},
      roundChange() {},
      evidence() {},
      blockStage() {},
      rejected: (code, source) => void rejected.push(`${source} ${code}`),
    };
    const driver = new ConsensusDriver({
      chain,
      queue,
      wal,
      metrics,
      clock: Date.now,
      mempool: new Mempool({ maxTxs: 100, maxBytes: 1 << 20, maxPerSender: 10, maxNonceGap: 10, replaceBumpPercent: 10 }),
      signer: keySigner(address(me), keys[me]!.identity.seed, keys[me]!.consensus.secretKey),
      crypto: defaultCrypto,
      logger: silentLogger(),
      publish: (bytes) => void published.push(bytes),
      sendDirect: () => {},
      commit: async (executed, cert) => void (await chain.commit(executed, cert)),
      onEvidence: () => {},
      onSyncNeeded: () => {},
      onSafetyViolation: () => {},
    });
    cleanups.push(() => driver.stop());
    await driver.start();
    // The proposer (whose hook works) builds block 1; this node's hook fails on it.
    const built = await buildBlock({
      context: chain.nextBlockContext(),
      proposer: address(proposer),
      round: 0,
      timestamp: Date.now(),
      candidates: [],
      signaturesVerified: true,
    });
    const unsigned: Omit<Proposal, 'signature'> = {
      kind: 0,
      height: 1,
      round: 0,
      author: address(proposer),
      digest: built.hash,
      block: encodeBlock(built.block),
      justification: null,
    };
    const proposal = {
      ...unsigned,
      signature: ed25519Sign(keys[proposer]!.identity.seed, messageSigningBytes(devnet.genesis.chainId, unsigned)),
    } as ConsensusMessage;
    failAt.height = 1;
    driver.onMessage(encodeMessage(proposal));
    await queue.push(() => undefined);
    expect(hookFailures(errors)).toEqual([`${ErrorCode.HOOK_FAILED} endBlock.test-broken`]);
    expect(published).toEqual([]); // no PREPARE
    expect(rejected).toEqual([]); // not counted as an invalid proposal
    expect(chain.height).toBe(0);
  });
});
