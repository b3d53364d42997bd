import { blockHash, type Block, type BlockHeader, type CommitCertificate } from '../../core/block.ts';
import type { JouleError } from '../../core/errors.ts';
import type { ChainParams } from '../../core/params.ts';
import type { Tx } from '../../core/tx.ts';
import type { ValidatorSet } from '../../core/validators.ts';
import type { PreparedState, WorldState } from '../../state/world-state.ts';
import { BlockExecutor } from '../../vm/index.ts';
import type { BlockResult, EvidenceRules } from '../../vm/index.ts';
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
  /** vm's evidence-tx rules (Chain.evidenceRules). */
  readonly evidenceRules?: EvidenceRules | undefined;
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
 * The proposer's side: executes candidates one by one on an overlay of the head state,
 * keeping those that apply, within the block's count and byte limits, then seals the
 * header with the resulting roots.
 */
export function buildBlock(input: BuildInput): BuildOutput {
  const { params } = input;
  const executor = new BlockExecutor(
    input.world,
    { chainId: input.chainId, params, height: input.parent.height + 1, timestamp: input.timestamp, proposer: input.proposer, evidenceRules: input.evidenceRules },
    input.signaturesVerified ? { verified: () => true } : {},
  );
  const included: Tx[] = [];
  const dropped: { tx: Tx; error: JouleError }[] = [];
  let bytes = 0;
  for (const tx of input.candidates) {
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
  const executed = executor.finish();
  const result = input.transition === undefined ? executed : { ...executed, changes: withTransition(executed.changes, input.transition) };
  const prepared = input.world.prepare(result.changes);
  const header: BlockHeader = {
    chainId: input.chainId,
    height: input.parent.height + 1,
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
