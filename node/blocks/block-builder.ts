import { blockHash, type Block, type BlockHeader } from '../../core/block.ts';
import type { JouleError } from '../../core/errors.ts';
import type { ChainParams } from '../../core/params.ts';
import type { Tx } from '../../core/tx.ts';
import type { SelectLimits } from '../../mempool/index.ts';
import type { PreparedState } from '../../state/world-state.ts';
import { BlockExecutor, endBlockAccess, END_BLOCK_LATER_STAGES, mergeAccess, txAccess } from '../../vm/index.ts';
import type { BlockResult } from '../../vm/index.ts';
import { receiptsRootOf, txRootOf } from './block-roots.ts';
import { blockContextOf, type NextBlockContext } from '../chain/next-block.ts';
import { withTransition } from '../chain/transitions.ts';

export interface BuildInput {
  /** The chain's next height (Chain.nextBlockContext()). */
  readonly context: NextBlockContext;
  readonly proposer: Uint8Array;
  /** The QBFT round the block is built for (the proposer must be that round's scheduled one). */
  readonly round: number;
  readonly timestamp: number;
  /** Candidates in the order the mempool selected them (for the space blockSpace() describes); the block keeps that order. */
  readonly candidates: readonly Tx[];
  /**
   * Every candidate came from this node's mempool, so admission verified it completely
   * and execution may skip its signatures. False: every candidate is verified.
   */
  readonly signaturesVerified: boolean;
}

/** A block ready to propose, with everything needed to commit it without re-executing. */
export interface ExecutedBlock {
  readonly block: Block;
  readonly hash: Uint8Array;
  readonly txs: readonly Tx[];
  readonly result: BlockResult;
  readonly prepared: PreparedState;
}

export interface BuildOutput extends ExecutedBlock {
  /** Candidates that failed (stale nonce, balance spent by an earlier tx, ...): drop them. */
  readonly dropped: readonly { tx: Tx; error: JouleError }[];
}

/**
 * The block space the proposer asks the mempool to fill (mempool/select.ts): the chain's
 * block limits, and each tier's minimum share (TierParams.minBlockShareBps), which the
 * pool fills first, tier by tier, before the space left goes to the tiers in order. So a
 * telemetry flood cannot starve carbon-credit or peer-to-peer txs, and a share a tier
 * does not use flows to the others. The system tier needs no share: it always goes first.
 */
export function blockSpace(params: ChainParams): SelectLimits {
  return {
    maxTxs: params.maxBlockTxs,
    maxBytes: params.maxBlockBytes,
    shares: Object.fromEntries(params.tiers.map((t) => [t.name, t.minBlockShareBps])),
  };
}

/** Candidates whose reads are loaded at a time: the builder learns which txs fit only as it goes. */
const LOAD_BATCH = 512;

/**
 * The proposer's side: executes candidates one by one on an overlay of the head state,
 * keeping those that apply, within the block's count and byte limits, then seals the
 * header with the resulting roots. Each batch of candidates' access lists is loaded
 * before the batch runs (vm/access.ts), so execution itself does no I/O.
 */
export async function buildBlock(input: BuildInput): Promise<BuildOutput> {
  const ctx = input.context;
  const { params } = ctx;
  const blockCtx = blockContextOf(ctx, input.timestamp, input.proposer);
  const state = await ctx.world.load(mergeAccess([endBlockAccess(blockCtx)]));
  for (const stage of END_BLOCK_LATER_STAGES) await state.load(stage(blockCtx, state));
  const executor = new BlockExecutor(state, blockCtx, { ...(input.signaturesVerified ? { verified: () => true } : {}), strictAccess: ctx.world.strictAccess });
  const included: Tx[] = [];
  const dropped: { tx: Tx; error: JouleError }[] = [];
  let bytes = 0;
  for (let start = 0; start < input.candidates.length && included.length < params.maxBlockTxs; start += LOAD_BATCH) {
    const batch = input.candidates.slice(start, start + LOAD_BATCH);
    await state.load(mergeAccess(batch.map(txAccess)));
    for (const tx of batch) {
      if (included.length >= params.maxBlockTxs) break;
      if (bytes + tx.bytes.length > params.maxBlockBytes) continue;
      const outcome = executor.tryApply(tx);
      if (outcome instanceof Error) {
        dropped.push({ tx, error: outcome });
        continue;
      }
      included.push(tx);
      bytes += tx.bytes.length;
    }
  }
  const executed = executor.finish();
  const result = ctx.transition === undefined ? executed : { ...executed, changes: withTransition(executed.changes, ctx.transition) };
  const prepared = await ctx.world.prepare(result.changes, ctx.height);
  const header: BlockHeader = {
    chainId: ctx.chainId,
    height: ctx.height,
    round: input.round,
    parentHash: ctx.parentHash,
    timestamp: input.timestamp,
    proposer: input.proposer,
    txRoot: txRootOf(included),
    stateRoot: prepared.root,
    receiptsRoot: receiptsRootOf(result.receipts),
    validatorSetHash: ctx.validatorSet.hash,
    txCount: included.length,
    parentCertificate: ctx.parentCertificate,
  };
  const block: Block = { header, txs: included.map((t) => t.bytes) };
  return { block, hash: blockHash(header), txs: included, result, prepared, dropped };
}
