import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitSealBytes } from '../core/block.ts';
import { blsGenerate, blsSign } from '../core/keys.ts';
import { genesisHash, generateDevnet } from '../genesis/index.ts';
import type { P2PNode } from '../p2p/index.ts';
import { createMetrics } from '../rpc/metrics.ts';
import { decodeCertifiedBlock, encodeCertifiedBlock } from './block-import.ts';
import { Chain } from './chain.ts';
import { silentLogger } from './log.ts';
import { SerialQueue } from './serial-queue.ts';
import { appendEmptyBlocks } from './testing.ts';
import { BlockSync } from './sync.ts';

/** A source chain of `blocks` empty blocks, each sealed by the only validator. */
async function sourceChain(blocks: number) {
  const devnet = generateDevnet({ validators: 1, accounts: 0, genesisTime: 1_700_000_000_000 });
  const chain = await Chain.open(await mkdtemp(join(tmpdir(), 'joule-sync-src-')), devnet.genesis, genesisHash(devnet.genesis));
  const items = await appendEmptyBlocks(chain, devnet, blocks);
  await chain.close();
  return { devnet, items };
}

/** A peer that serves the given items; records penalties. Only the methods sync uses. */
function stubPeer(items: Uint8Array[]) {
  const penalties: string[] = [];
  const p2p = {
    peers: () => ['peer-a'],
    requestStatus: async () => ({ height: items.length, hash: new Uint8Array(32) }),
    requestBlocks: async (_peer: string, from: number, to: number) => items.slice(from - 1, to),
    penalize: async (peer: string, reason: string) => {
      penalties.push(`${peer}: ${reason}`);
    },
  } as unknown as P2PNode;
  return { p2p, penalties };
}

async function syncFrom(devnet: ReturnType<typeof generateDevnet>, items: Uint8Array[]) {
  const chain = await Chain.open(await mkdtemp(join(tmpdir(), 'joule-sync-dst-')), devnet.genesis, genesisHash(devnet.genesis));
  const { p2p, penalties } = stubPeer(items);
  const queue = new SerialQueue((e) => {
    throw e;
  });
  const sync = new BlockSync({
    chain, p2p, queue, logger: silentLogger(), metrics: createMetrics({ defaultMetrics: false }),
    commit: async (executed, cert) => {
      await chain.commit(executed, cert);
    },
    afterImport: async () => {},
  });
  await sync.trigger();
  return { chain, penalties };
}

describe('BlockSync', () => {
  it('imports a peer’s certified blocks up to its head', async () => {
    const { devnet, items } = await sourceChain(12);
    const { chain, penalties } = await syncFrom(devnet, items);
    expect(chain.height).toBe(12);
    expect(penalties).toEqual([]);
    await chain.close();
  });

  it('rejects a block whose certificate is forged and penalises the peer that served it', async () => {
    const { devnet, items } = await sourceChain(8);
    // Block 5's certificate re-signed by a key that is not a validator's.
    const forged = [...items];
    const item = decodeCertifiedBlock(forged[4]!, 1 << 22);
    const mallory = blsGenerate();
    const cert = { ...item.certificate, aggregateSignature: blsSign(mallory.secretKey, commitSealBytes(devnet.genesis.chainId, 5, 0, item.certificate.blockHash)) };
    forged[4] = encodeCertifiedBlock(item.blockBytes, cert);
    const { chain, penalties } = await syncFrom(devnet, forged);
    expect(chain.height).toBe(4);
    expect(penalties).toHaveLength(1);
    expect(penalties[0]).toMatch(/peer-a: invalid block in sync: CERT_INVALID/);
    await chain.close();
  });
});
