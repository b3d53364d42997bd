import { blockHash, type Block, type BlockHeader } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { ErrorCode, isJouleError, JouleError } from '../../core/errors.ts';
import type { ChainParams } from '../../core/params.ts';
import { decodeTx } from '../../core/tx.ts';
import { sha256 } from '../../core/hash.ts';
import { defaultCrypto, type ConsensusCrypto } from '../../consensus/crypto.ts';
import { proposerOf } from '../../consensus/proposer.ts';
import { blockAccess, END_BLOCK_LATER_STAGES, executeBlock } from '../../vm/index.ts';
import { verifiedAhead } from '../verify/ahead.ts';
import type { ExecutedBlock } from './block-builder.ts';
import { preverifyTxSignatures } from './block-signatures.ts';
import { receiptsRootOf, txRootOf } from './block-roots.ts';
import { parentCertificateChecker } from './certificates.ts';
import { blockContextOf, type NextBlockContext } from '../chain/next-block.ts';
import { withTransition } from '../chain/transitions.ts';

export interface VerifyInput {
  /** The chain's next height (Chain.nextBlockContext(), or replay's). */
  readonly context: NextBlockContext;
  readonly block: Block;
}

function invalid(field: string, message: string): JouleError {
  return new JouleError(ErrorCode.BLOCK_INVALID, message, `block.header.${field}`);
}

/**
 * How many ms a live proposal's timestamp is ahead of what the local clock allows (<= 0:
 * acceptable now). Kept out of verifyBlock on purpose: a verdict that depends on the local
 * clock may change a moment later, so it must never be cached as the block's validity
 * (the consensus driver holds such a block a bounded time, else answers 'premature').
 */
export function timestampAhead(header: BlockHeader, now: number, params: ChainParams): number {
  return header.timestamp - (now + params.maxClockDriftMs);
}

/**
 * Header checks that need no execution and no clock (validity is the same on every node, at
 * any time). The parent certificate's pairing goes through `crypto` (verifyBlock has the
 * pool answer it).
 */
export function checkHeader(input: VerifyInput, crypto: ConsensusCrypto = defaultCrypto): void {
  const { block } = input;
  const ctx = input.context;
  const { parent, params } = ctx;
  const h = block.header;
  if (h.chainId !== ctx.chainId) throw invalid('chainId', `expected ${ctx.chainId}, got ${h.chainId}`);
  if (h.height !== parent.height + 1) throw invalid('height', `expected ${parent.height + 1}, got ${h.height}`);
  if (!equalBytes(h.parentHash, ctx.parentHash)) throw invalid('parentHash', `expected ${toHex(ctx.parentHash)}`);
  if (h.timestamp <= parent.timestamp) throw invalid('timestamp', 'must be later than the parent timestamp');
  // The proposer rotation of the next height starts from this field, so it must be the
  // scheduled proposer of (height, round), not whoever the proposer claims to be.
  const scheduled = proposerOf(ctx.validatorSet, parent.height === 0 ? null : parent.proposer, h.round);
  if (!equalBytes(h.proposer, scheduled.address)) throw invalid('proposer', `not the scheduled proposer of round ${h.round} (expected ${scheduled.name})`);
  if (!equalBytes(h.validatorSetHash, ctx.validatorSet.hash)) throw invalid('validatorSetHash', 'does not match the validator set');
  if (h.txCount !== block.txs.length) throw invalid('txCount', `header says ${h.txCount}, body has ${block.txs.length}`);
  if (block.txs.length > params.maxBlockTxs) throw invalid('txCount', `over the limit of ${params.maxBlockTxs}`);
  let bytes = 0;
  for (const t of block.txs) bytes += t.length;
  if (bytes > params.maxBlockBytes) throw invalid('txCount', `${bytes} bytes of transactions, limit ${params.maxBlockBytes}`);
  parentCertificateChecker(ctx.validatorSets)(h.parentCertificate, parent, ctx.parentHash, crypto);
}

/**
 * The importer's side: every header field is checked, every tx decoded and re-executed,
 * and the resulting roots compared with the header. Throws BLOCK_INVALID naming the field.
 * With the context's verification service, signatures are verified there first (the
 * parent certificate, the txs this node has not verified: block-signatures.ts), and
 * execution then runs on this thread in block order: the verdict, and the tx it names, are
 * those of a node that checks everything here. Run it where the head cannot move
 * meanwhile (the node's serial queue). What the block reads (vm/access.ts) is loaded before
 * it runs.
 */
export async function verifyBlock(input: VerifyInput): Promise<ExecutedBlock> {
  const { block } = input;
  const ctx = input.context;
  const sigs = ctx.verification;
  checkHeader(input, sigs === undefined ? defaultCrypto : await verifiedAhead(sigs.service, { priority: 'block' }, (crypto) => checkHeader(input, crypto)));
  const h = block.header;
  // A tx this node verified already (same hash, so the same bytes) was decoded then: reuse it.
  const txs = block.txs.map((bytes, i) => {
    const known = sigs?.verifiedTxs.get(sha256(bytes));
    if (known !== undefined) return known;
    try {
      return decodeTx(bytes, ctx.params.maxTxBytes);
    } catch (e) {
      throw new JouleError(
        ErrorCode.BLOCK_INVALID,
        `undecodable transaction (${isJouleError(e) ? e.code : 'error'}: ${(e as Error).message})`,
        `block.txs[${i}]`,
      );
    }
  });
  if (!equalBytes(h.txRoot, txRootOf(txs))) throw invalid('txRoot', 'does not match the transactions');
  const seen = new Set<string>();
  for (const [i, tx] of txs.entries()) {
    const id = toHex(tx.hash);
    if (seen.has(id)) throw new JouleError(ErrorCode.BLOCK_INVALID, 'duplicate transaction', `block.txs[${i}]`);
    seen.add(id);
  }
  const blockCtx = blockContextOf(ctx, h.timestamp, h.proposer);
  const state = await ctx.world.load(blockAccess(txs, blockCtx));
  for (const stage of END_BLOCK_LATER_STAGES) await state.load(stage(blockCtx, state));
  const verified = sigs === undefined ? new Set<string>() : await preverifyTxSignatures(state, txs, blockCtx, sigs);
  const executed = executeBlock(state, txs, blockCtx, { verified: (hash) => verified.has(toHex(hash)), strictAccess: ctx.world.strictAccess });
  const result = ctx.transition === undefined ? executed : { ...executed, changes: withTransition(executed.changes, ctx.transition) };
  if (!equalBytes(h.receiptsRoot, receiptsRootOf(result.receipts))) throw invalid('receiptsRoot', 'does not match re-execution');
  const prepared = await ctx.world.prepare(result.changes, h.height);
  if (!equalBytes(h.stateRoot, prepared.root)) throw invalid('stateRoot', 'does not match re-execution');
  return { block, hash: blockHash(h), txs, result, prepared };
}
