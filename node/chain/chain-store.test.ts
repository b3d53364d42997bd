import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { blockHash, type Block, type Receipt } from '../../core/block.ts';
import { encode } from '../../core/codec.ts';
import { sha256 } from '../../core/hash.ts';
import { ed25519FromSeed } from '../../core/keys.ts';
import { signTx } from '../../core/tx.ts';
import { Database } from '../../state/db.ts';
import { ChainStore } from './chain-store.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('ChainStore.transactionAt', () => {
  it('answers one tx, its header and its receipt exactly as the whole block and receipt list hold them', async () => {
    dir = await mkdtemp(join(tmpdir(), 'joule-chain-store-'));
    const db = await Database.open(dir);
    try {
      const seed = new Uint8Array(32).fill(3);
      const sender = ed25519FromSeed(seed).publicKey;
      const txs = Array.from({ length: 300 }, (_, i) =>
        signTx({ chainId: 'c', type: 1, sender, nonce: i, fee: BigInt(i), body: encode([new Uint8Array(20), BigInt(i) * 10n ** 12n]) }, seed),
      );
      const receipts: Receipt[] = txs.map((tx, i) => ({
        txHash: tx.hash,
        success: i % 3 !== 0,
        code: i % 3 === 0 ? 'TX_INSUFFICIENT_BALANCE' : '',
        feePaid: tx.fee,
        events:
          i % 2 === 0
            ? []
            : [
                {
                  type: 'transfer',
                  attributes: [
                    ['amount', String(i)],
                    ['note', 'é'.repeat(i)],
                  ],
                },
              ],
      }));
      const block: Block = {
        header: {
          chainId: 'c',
          height: 7,
          round: 1,
          parentHash: sha256(new Uint8Array([1])),
          timestamp: 1_700_000_000_000,
          proposer: new Uint8Array(20).fill(5),
          txRoot: new Uint8Array(32),
          stateRoot: new Uint8Array(32),
          receiptsRoot: new Uint8Array(32),
          validatorSetHash: new Uint8Array(32),
          txCount: txs.length,
          parentCertificate: null,
        },
        txs: txs.map((t) => t.bytes),
      };
      const store = new ChainStore(db);
      const batch = db.batch();
      store.putBlock(
        batch,
        block,
        blockHash(block.header),
        null,
        receipts,
        txs.map((t) => t.hash),
      );
      await batch.write();

      for (const i of [0, 1, 150, 299]) {
        const got = await store.transactionAt(7, i);
        expect(Buffer.compare(got!.txBytes, txs[i]!.bytes)).toBe(0);
        expect(got!.header).toEqual(block.header);
        expect(got!.receipt).toEqual(receipts[i]);
      }
      expect(await store.transactionAt(7, 300)).toBeUndefined();
      expect(await store.transactionAt(8, 0)).toBeUndefined();
      expect(await store.txLocation(txs[150]!.hash)).toEqual({ height: 7, index: 150 });
    } finally {
      await db.close();
    }
  });
});
