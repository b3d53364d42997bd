import { blockHash, certificateFromWire, certificateToWire, decodeBlock, type Block, type CommitCertificate } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { decode, encode, readArray, readBytes } from '../../core/codec.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import type { ExecutedBlock } from './block-builder.ts';
import type { Tx } from '../../core/tx.ts';
import { verifyBlock } from './block-verifier.ts';
import { checkCertificate, parentCertificateChecker } from './certificates.ts';
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
 * (with the mempool's already-verified txs) and for certified imports. Clock-free: the
 * drift check of live proposals is the consensus driver's (block-verifier timestampAhead).
 */
export function verifyNextBlock(chain: Chain, block: Block, opts: { knownTx?: (hash: Uint8Array) => Tx | undefined } = {}): Promise<ExecutedBlock> {
  return verifyBlock({
    world: chain.world,
    chainId: chain.genesis.chainId,
    params: chain.genesis.params,
    parent: chain.head.header,
    parentHash: chain.head.hash,
    validatorSet: chain.validators,
    transition: chain.transitionAt(chain.height + 1),
    verifyEvidence: chain.verifyEvidence,
    block,
    knownTx: opts.knownTx,
    checkParentCertificate: parentCertificateChecker((h) => chain.cachedValidatorSet(h)),
  });
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
      throw new JouleError(ErrorCode.CERT_INVALID, `conflicting block at height ${height}: ours ${toHex(ours.hash).slice(0, 16)}…, theirs ${toHex(hash).slice(0, 16)}…`, 'block');
    }
    return 'known';
  }
  if (height > chain.height + 1) return 'ahead';
  if ((await chain.validatorSetByHash(block.header.validatorSetHash)) === undefined) {
    throw new JouleError(ErrorCode.BLOCK_INVALID, 'names a validator set this chain never had', 'block.header.validatorSetHash');
  }
  checkCertificate(certificate, block.header, hash, (h) => chain.cachedValidatorSet(h));
  const executed = await verifyNextBlock(chain, block);
  await commit(executed, certificate);
  return 'imported';
}
