/**
 * A full or read-only disk is this node's failure, never a peer's (issue 8 finding 3): a
 * failed LevelDB write or WAL append reaches the node's serial queue as STORAGE_FAILED
 * (fatal: the node halts, naming the path and the OS error), no peer is penalised, nothing
 * half-applies, and a validator that could not persist a vote does not send it.
 */
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeBlock } from '../core/block.ts';
import { ErrorCode, isFatal } from '../core/errors.ts';
import { addressFromPublicKey, ed25519Sign } from '../core/keys.ts';
import { messageSigningBytes } from '../core/signed-core.ts';
import { StorageFailure } from '../core/storage-error.ts';
import { ValidatorSet } from '../core/validators.ts';
import { defaultCrypto, keySigner } from '../consensus/crypto.ts';
import { encodeMessage, type ConsensusMessage, type Proposal } from '../consensus/messages.ts';
import { proposerOf } from '../consensus/proposer.ts';
import { genesisHash, generateDevnet, type Devnet } from '../genesis/index.ts';
import { Mempool } from '../mempool/index.ts';
import { failBatchWrites } from '../state/testing/failing-disk.ts';
import { buildBlock } from './blocks/block-builder.ts';
import { Chain } from './chain/chain.ts';
import { ConsensusDriver } from './consensus/driver.ts';
import { ConsensusRecordLog } from './consensus/wal.ts';
import { silentLogger } from './log.ts';
import { SerialQueue } from './serial-queue.ts';
import { BlockSync } from './sync/block-sync.ts';
import { NO_SYNC_METRICS } from './sync/metrics.ts';
import { appendEmptyBlocks } from './testing/chain.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function openChain(devnet: Devnet): Promise<{ dir: string; chain: Chain }> {
  const dir = mkdtempSync(join(tmpdir(), 'joule-disk-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const chain = await Chain.open(join(dir, 'data'), devnet.genesis, genesisHash(devnet.genesis));
  cleanups.push(() => chain.close());
  return { dir, chain };
}

function recordingQueue() {
  const errors: unknown[] = [];
  return { queue: new SerialQueue((e) => errors.push(e)), errors };
}

describe('a disk that refuses writes', () => {
  it('in sync: the node gets STORAGE_FAILED naming the path and ENOSPC, the peer is not blamed, nothing half-applies', async () => {
    const devnet = generateDevnet({ validators: 1, accounts: 0, genesisTime: 1_700_000_000_000 });
    const source = await openChain(devnet);
    const items = await appendEmptyBlocks(source.chain, devnet, 3);
    const { chain } = await openChain(devnet);
    const heal = failBatchWrites(chain.db);
    const rootBefore = chain.world.root;
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
    const failure = errors[0];
    expect(isFatal(failure)).toBe(true);
    expect(failure).toBeInstanceOf(StorageFailure);
    expect((failure as StorageFailure).code).toBe(ErrorCode.STORAGE_FAILED);
    expect((failure as StorageFailure).message).toContain(chain.db.path);
    expect((failure as StorageFailure).osCode).toBe('ENOSPC');
    expect((failure as StorageFailure).op).toBe('db-write');
    expect(penalties).toEqual([]);
    expect(rejected).toEqual([]);
    // The failed commit left the head and the state as they were.
    expect(chain.height).toBe(0);
    expect(chain.world.root).toEqual(rootBefore);
    // Once the disk takes writes again (here: without a restart), the same blocks import.
    heal();
    const { queue: q2 } = recordingQueue();
    const retry = new BlockSync({
      chain,
      queue: q2,
      logger: silentLogger(),
      p2p: {
        peers: () => ['peer-a'],
        requestStatus: async () => ({ height: 3, hash: new Uint8Array(32) }),
        requestBlocks: async (_p, from, to) => items.slice(from - 1, to),
        penalize: async () => {},
      },
      metrics: NO_SYNC_METRICS,
      commit: async (executed, cert) => void (await chain.commit(executed, cert)),
      afterImport: async () => {},
      config: { tickMs: 60_000 },
    });
    cleanups.push(() => retry.stop());
    while (chain.height < 3 && Date.now() < deadline + 10_000) await retry.trigger().then(() => new Promise((r) => setTimeout(r, 10)));
    expect(chain.height).toBe(3);
  });

  it('in consensus: a PREPARE whose WAL append failed is not sent, the node gets STORAGE_FAILED, and the WAL writes nothing more', async () => {
    const devnet = generateDevnet({ validators: 4, accounts: 0, genesisTime: 1_700_000_000_000 });
    const keys = devnet.validatorKeys;
    const address = (i: number) => addressFromPublicKey(keys[i]!.identity.publicKey);
    const scheduled = proposerOf(new ValidatorSet(devnet.genesis.validators), null, 0).address;
    const proposer = keys.findIndex((_, i) => Buffer.compare(address(i), scheduled) === 0);
    const me = (proposer + 1) % 4;
    const { dir, chain } = await openChain(devnet);
    const walPath = join(dir, 'consensus.wal');
    const wal = ConsensusRecordLog.open(walPath);
    cleanups.push(() => wal.close());
    const { queue, errors } = recordingQueue();
    const published: Uint8Array[] = [];
    const driver = new ConsensusDriver({
      chain,
      queue,
      wal,
      clock: Date.now,
      metrics: { round() {}, roundChange() {}, evidence() {}, rejected() {}, blockStage() {} },
      mempool: new Mempool({ maxTxs: 100, maxBytes: 1 << 20, maxPerSender: 10, maxNonceGap: 10, replaceBumpPercent: 10 }),
      signer: keySigner(address(me), keys[me]!.identity.seed, keys[me]!.consensus.secretKey),
      crypto: defaultCrypto,
      logger: silentLogger(),
      publish: (bytes) => void published.push(bytes),
      sendDirect: (bytes) => void published.push(bytes),
      commit: async (executed, cert) => void (await chain.commit(executed, cert)),
      onEvidence: () => {},
      onSyncNeeded: () => {},
      onSafetyViolation: () => {},
    });
    cleanups.push(() => driver.stop());
    await driver.start();
    // The WAL's file now sits on a full disk: /dev/full answers every write with ENOSPC.
    const inner = (wal as unknown as { wal: { fd: number } }).wal;
    const realFd = inner.fd;
    const full = openSync('/dev/full', 'w');
    inner.fd = full;
    cleanups.push(() => {
      inner.fd = realFd; // wal.close() closes the real file
      closeSync(full);
    });
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
    driver.onMessage(encodeMessage(proposal));
    await queue.push(() => undefined);
    expect(errors).toHaveLength(1);
    const failure = errors[0] as StorageFailure;
    expect(failure).toBeInstanceOf(StorageFailure);
    expect(isFatal(failure)).toBe(true);
    expect(failure.op).toBe('wal-append');
    expect(failure.osCode).toBe('ENOSPC');
    expect(failure.message).toContain(walPath);
    expect(published).toEqual([]); // the PREPARE it could not persist is not sent
    // Even with the disk back, this log writes nothing more (the node halts; a restart reopens it).
    inner.fd = realFd;
    expect(() => wal.persist(1, new Uint8Array([1]))).toThrow(StorageFailure);
  });
});
