import type { BlockHeader, CommitCertificate } from '../../core/block.ts';
import type { ChainParams } from '../../core/params.ts';
import type { ValidatorSet } from '../../core/validators.ts';
import type { WorldState } from '../../state/world-state.ts';
import type { BlockContext, ChainContext } from '../../vm/index.ts';

/** Finds a validator set the chain has had, by the hash a header carries. */
export type ValidatorSetLookup = (hash: Uint8Array) => ValidatorSet | undefined;

/** vm's evidence-tx verifier (node/chain/evidence-verifier.ts, built on consensus/). */
export type EvidenceVerifier = NonNullable<ChainContext['verifyEvidence']>;

/**
 * Everything building, verifying or importing the block at `height` needs, in one value:
 * the chain's rules (chain id, params, the evidence verifier: vm's ChainContext), the
 * parent, the validator set that certifies this height (an emergency transition's, if
 * one is configured here) and the state the block executes on. The block builder,
 * verifier and importer, the consensus driver, admission and replay read only this, never
 * the chain's store, world state or genesis. It describes the head at the time it was
 * taken: take a fresh one after the head moves.
 */
export interface NextBlockContext extends ChainContext {
  readonly verifyEvidence: EvidenceVerifier;
  /** parent.height + 1. */
  readonly height: number;
  readonly parent: BlockHeader;
  readonly parentHash: Uint8Array;
  /** The parent's own commit certificate (null for genesis): the next header carries it. */
  readonly parentCertificate: CommitCertificate | null;
  /** The set that proposes and certifies `height`. */
  readonly validatorSet: ValidatorSet;
  /** An emergency transition's set, which block `height` writes into the state. */
  readonly transition: ValidatorSet | undefined;
  /** The head state, which the block executes on (through an overlay; never written here). */
  readonly world: WorldState;
  /** Every set the chain has had (certificates name theirs by hash). */
  readonly validatorSets: ValidatorSetLookup;
  /**
   * The signature verification service (node/verify/, issue 7 part 1), when the node runs
   * one; absent, signatures are verified in line. Typed by that part when it lands.
   */
  readonly verification?: unknown;
}

export interface NextBlockParts {
  readonly chainId: string;
  readonly params: ChainParams;
  readonly verifyEvidence: EvidenceVerifier;
  readonly parent: BlockHeader;
  readonly parentHash: Uint8Array;
  readonly parentCertificate: CommitCertificate | null;
  readonly validatorSet: ValidatorSet;
  readonly transition?: ValidatorSet | undefined;
  readonly world: WorldState;
  readonly validatorSets: ValidatorSetLookup;
  readonly verification?: unknown;
}

/** The one place a NextBlockContext is assembled (Chain for its head, replay for each height). */
export function nextBlockContext(p: NextBlockParts): NextBlockContext {
  return {
    chainId: p.chainId,
    params: p.params,
    verifyEvidence: p.verifyEvidence,
    height: p.parent.height + 1,
    parent: p.parent,
    parentHash: p.parentHash,
    parentCertificate: p.parentCertificate,
    validatorSet: p.transition ?? p.validatorSet,
    transition: p.transition,
    world: p.world,
    validatorSets: p.validatorSets,
    ...(p.verification === undefined ? {} : { verification: p.verification }),
  };
}

/** What the vm sees of the block at `ctx.height`: the chain's rules plus the header's time and proposer. */
export function blockContextOf(ctx: NextBlockContext, timestamp: number, proposer: Uint8Array): BlockContext {
  return { chainId: ctx.chainId, params: ctx.params, verifyEvidence: ctx.verifyEvidence, height: ctx.height, timestamp, proposer };
}
