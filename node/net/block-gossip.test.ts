import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decode, encode } from '../../core/codec.ts';
import type { JouleError } from '../../core/errors.ts';
import { genesisHash, generateDevnet } from '../../genesis/index.ts';
import { Chain } from '../chain/chain.ts';
import { SerialQueue } from '../serial-queue.ts';
import { appendEmptyBlocks } from '../testing/chain.ts';
import { BlockGossip, type BlockGossipDeps } from './block-gossip.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Two chains of one devnet: `source` two blocks ahead, `observer` at genesis. */
async function setup() {
  const devnet = generateDevnet({ validators: 1, accounts: 0, genesisTime: 1_700_000_000_000 });
  const open = async (label: string) => {
    const dir = await mkdtemp(join(tmpdir(), `joule-block-gossip-${label}-`));
    const chain = await Chain.open(dir, devnet.genesis, genesisHash(devnet.genesis));
    cleanups.push(
      () => rm(dir, { recursive: true, force: true }),
      () => chain.close(),
    );
    return chain;
  };
  const items = await appendEmptyBlocks(await open('source'), devnet, 2);
  return { observer: await open('observer'), items };
}

function subscriber(chain: Chain, over: Partial<BlockGossipDeps> = {}) {
  const seen = { penalized: [] as JouleError[], failed: [] as unknown[], rejected: [] as string[], queueErrors: [] as unknown[] };
  const queue = new SerialQueue((e) => seen.queueErrors.push(e));
  const gossip = new BlockGossip({
    chain,
    queue,
    commit: async (executed, cert) => void (await chain.commit(executed, cert)),
    imported: async () => {},
    ahead: () => {},
    rejected: (code) => seen.rejected.push(code),
    penalize: async (_peer, e) => void seen.penalized.push(e),
    failed: (_peer, e) => seen.failed.push(e),
    ...over,
  });
  return { gossip, queue, seen };
}

describe('BlockGossip (the blocks topic of observers)', () => {
  it('imports the next certified block; ignores one at or below the head; rejects what does not decode', async () => {
    const { observer, items } = await setup();
    const { gossip, queue, seen } = subscriber(observer);
    expect(gossip.validate(new Uint8Array([0xc1]))).toBe('reject');
    expect(gossip.validate(items[0]!)).toBe('accept');
    gossip.handle(items[0]!, 'peer');
    await queue.idle();
    expect(observer.height).toBe(1);
    expect(gossip.validate(items[0]!)).toBe('ignore');
    expect(seen).toMatchObject({ penalized: [], failed: [], queueErrors: [] });
  });

  it('penalises the sender of a block its certificate does not certify (a typed rejection), by its code', async () => {
    const { observer, items } = await setup();
    const { gossip, queue, seen } = subscriber(observer);
    const [block, cert] = decode(items[0]!) as [Uint8Array, unknown[]];
    const forged = encode([block, [cert[0]!, 7, ...cert.slice(2)]] as never); // another round: the seal does not verify
    expect(gossip.validate(forged)).toBe('accept');
    gossip.handle(forged, 'peer');
    await queue.idle();
    expect(seen.penalized.map((e) => e.code)).toEqual(['CERT_INVALID']);
    expect(seen.rejected).toEqual(['CERT_INVALID']);
    expect(observer.height).toBe(0);
  });

  // issue 8: a node's own failure (here its store) was blamed on the peer that sent a good block.
  it('a failure that is not the block’s (a plain Error from this node’s commit) penalises nobody and is reported', async () => {
    const { observer, items } = await setup();
    const { gossip, queue, seen } = subscriber(observer, {
      commit: async () => {
        throw new Error('EIO: i/o error, write');
      },
    });
    gossip.handle(items[0]!, 'peer');
    await queue.idle();
    expect(seen.penalized).toEqual([]);
    expect(seen.failed).toEqual([expect.objectContaining({ message: 'EIO: i/o error, write' })]);
    expect(seen.queueErrors).toEqual([]);
  });
});
