/** Test helpers for node/'s unit tests (not used by the node itself). */
import { commitSealBytes, encodeBlock, type CommitCertificate } from '../../core/block.ts';
import { addressFromPublicKey, blsSign } from '../../core/keys.ts';
import { bitmapFromIndexes } from '../../core/validators.ts';
import type { Devnet } from '../../genesis/index.ts';
import { buildBlock } from '../blocks/block-builder.ts';
import { encodeCertifiedBlock } from '../blocks/block-import.ts';
import type { Chain } from '../chain/chain.ts';

/**
 * Commits `count` empty blocks proposed and sealed by the devnet's only validator;
 * returns each as the certified item sync would serve.
 */
export async function appendEmptyBlocks(chain: Chain, devnet: Devnet, count: number): Promise<Uint8Array[]> {
  const v = devnet.validatorKeys[0]!;
  const items: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const head = chain.head;
    const built = await buildBlock({
      context: chain.nextBlockContext(),
      proposer: addressFromPublicKey(v.identity.publicKey),
      round: 0,
      timestamp: head.header.timestamp + 1000,
      candidates: [],
      signaturesVerified: true,
    });
    const height = built.block.header.height;
    const cert: CommitCertificate = {
      height,
      round: 0,
      blockHash: built.hash,
      aggregateSignature: blsSign(v.consensus.secretKey, commitSealBytes(devnet.genesis.chainId, height, 0, built.hash)),
      signers: bitmapFromIndexes(1, [0]),
    };
    await chain.commit(built, cert);
    items.push(encodeCertifiedBlock(encodeBlock(built.block), cert));
  }
  return items;
}
