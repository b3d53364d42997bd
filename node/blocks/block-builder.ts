import { blockHash, type Block, type BlockHeader, type CommitCertificate } from '../../core/block.ts';
import type { JouleError } from '../../core/errors.ts';
import type { ChainParams } from '../../core/params.ts';
import type { Tx } from '../../core/tx.ts';
import type { ValidatorSet } from '../../core/validators.ts';
import type { PreparedState, WorldState } from '../../state/world-state.ts';
import { BlockExecutor, endBlockAccess, mergeAccess, txAccess } from '../../vm/index.ts';
import type { BlockContext, BlockResult } from '../../vm/index.ts';
import { receiptsRootOf, txRootOf } from './block-roots.ts';
import { withTransition } from '../chain/transitions.ts';

export interface BuildInput {
  readonly world: WorldState;
  readonly chainId: string;
  readonly params: ChainParams;
  readonly parent: BlockHeader;
  readonly parentHash: Uint8Array;
  readonly parentCertificate: CommitCertificate | null;
  readonly validatorSet: ValidatorSet;
  readonly proposer: Uint8Array;
  /** The QBFT round the block is built for (the proposer must be that round's scheduled one). */
  readonly round: number;
  readonly timestamp: number;
  /** Candidates in the order the mempool selected them. */
  readonly candidates: readonly Tx[];
  /**
   * Every candidate came from this node's mempool, so admission verified it completely
   * and execution may skip its signatures. False: every candidate is verified.
   */
  readonly signaturesVerified: boolean;
  /** An emergency transition's set, written into the state by this block. */
  readonly transition?: ValidatorSet | undefined;
  /** vm's evidence-tx verifier (Chain.verifyEvidence). */
  readonly verifyEvidence?: ((body: Uint8Array, validators: ValidatorSet) => boolean) | undefined;
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

/** Candidates whose reads are loaded at a time: the builder learns which txs fit only as it goes. */
const LOAD_BATCH = 512;

/**
 * The proposer's side: executes candidates one by one on an overlay of the head state,
 * keeping those that apply, within the block's count and byte limits, then seals the
 * header with the resulting roots. Each batch of candidates' access lists is loaded
 * before the batch runs (vm/access.ts), so execution itself does no I/O.
 */
export async function buildBlock(input: BuildInput): Promise<BuildOutput> {
  const { params } = input;
  const height = input.parent.height + 1;
  const ctx: BlockContext = { chainId: input.chainId, params, height, timestamp: input.timestamp, proposer: input.proposer, verifyEvidence: input.verifyEvidence };
  const state = await input.world.load(mergeAccess([endBlockAccess(ctx)]));
  const executor = new BlockExecutor(state, ctx, { ...(input.signaturesVerified ? { verified: () => true } : {}), strictAccess: input.world.strictAccess });
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
  const result = input.transition === undefined ? executed : { ...executed, changes: withTransition(executed.changes, input.transition) };
  const prepared = await input.world.prepare(result.changes, height);
  const header: BlockHeader = {
    chainId: input.chainId,
    height,
    round: input.round,
    parentHash: input.parentHash,
    timestamp: input.timestamp,
    proposer: input.proposer,
    txRoot: txRootOf(included),
    stateRoot: prepared.root,
    receiptsRoot: receiptsRootOf(result.receipts),
    validatorSetHash: input.validatorSet.hash,
    txCount: included.length,
    parentCertificate: input.parentCertificate,
  };
  const block: Block = { header, txs: included.map((t) => t.bytes) };
  return { block, hash: blockHash(header), txs: included, result, prepared, dropped };
}
