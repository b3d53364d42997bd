import { blockHash, certificateFromWire, certificateToWire, decodeBlock, type Block, type CommitCertificate } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { decode, encode, readArray, readBytes } from '../../core/codec.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import type { ExecutedBlock } from './block-builder.ts';
import { verifyBlock } from './block-verifier.ts';
import { checkCertificate } from './certificates.ts';
import type { ConsensusCrypto } from '../../consensus/crypto.ts';
import { verifiedAhead } from '../verify/ahead.ts';
import type { Chain } from '../chain/chain.ts';

/** A certified block as it travels (sync responses, block gossip): [block, certificate]. */
export interface CertifiedBlock {
  readonly block: Block;
  readonly blockBytes: Uint8Array;
  readonly certificate: CommitCertificate;
}

export function encodeCertifiedBlock(blockBytes: Uint8Array, certificate: CommitCertificate): Uint8Array {
  return encode([blockBytes, certificateToWire(certificate)]);
}

export function decodeCertifiedBlock(bytes: Uint8Array, maxBlockBytes: number): CertifiedBlock {
  const f = readArray(decode(bytes, 'certifiedBlock'), 'certifiedBlock', 2);
  const blockBytes = readBytes(f[0]!, 'certifiedBlock.block');
  return { block: decodeBlock(blockBytes, maxBlockBytes), blockBytes, certificate: certificateFromWire(f[1]!, 'certifiedBlock.certificate') };
}

/**
 * Verifies `block` as the next block on the chain's head: the one rule set for proposals
 * and for certified imports, with the chain's verification service and its cache of txs
 * this node verified. Clock-free: the drift check of live proposals is the consensus
 * driver's (block-verifier timestampAhead). Run it where the head cannot move meanwhile
 * (the node's serial queue).
 */
export function verifyNextBlock(chain: Chain, block: Block): Promise<ExecutedBlock> {
  return verifyBlock({ context: chain.nextBlockContext(), block });
}

export type ImportOutcome = 'imported' | 'known' | 'ahead';

/**
 * Imports a block proven final by its certificate (sync, block gossip, observers): the
 * certificate is checked against the validator set the header names, then the block is
 * re-executed and every header field compared, exactly as for a proposal (finality, not
 * the clock, is what counts for a past block).
 * Throws CERT_INVALID (the sender forged or garbled a certificate) or BLOCK_INVALID.
 */
export async function importCertified(
  chain: Chain,
  item: CertifiedBlock,
  commit: (executed: ExecutedBlock, certificate: CommitCertificate) => Promise<void>,
): Promise<ImportOutcome> {
  const { block, certificate } = item;
  const height = block.header.height;
  const hash = blockHash(block.header);
  if (height <= chain.height) {
    const ours = await chain.blockAt(height);
    if (ours !== undefined && !equalBytes(ours.hash, hash)) {
      // Two certified blocks at one height would mean more than f Byzantine validators.
      throw new JouleError(
        ErrorCode.CERT_INVALID,
        `conflicting block at height ${height}: ours ${toHex(ours.hash).slice(0, 16)}…, theirs ${toHex(hash).slice(0, 16)}…`,
        'block',
      );
    }
    return 'known';
  }
  if (height > chain.height + 1) return 'ahead';
  if ((await chain.validatorSetByHash(block.header.validatorSetHash)) === undefined) {
    throw new JouleError(ErrorCode.BLOCK_INVALID, 'names a validator set this chain never had', 'block.header.validatorSetHash');
  }
  // Loaded above (validatorSetByHash caches), so the context's lookup finds the set.
  const context = chain.nextBlockContext();
  // Its pairing on the pool (block priority), the verdict the same as here.
  const check = (crypto?: ConsensusCrypto) => checkCertificate(certificate, block.header, hash, context.validatorSets, 'certificate', crypto);
  check(await verifiedAhead(chain.signatures.service, { priority: 'block' }, check));
  const executed = await verifyBlock({ context, block });
  await commit(executed, certificate);
  return 'imported';
}
