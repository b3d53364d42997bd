import type { BlockHeader, CommitCertificate } from '../../core/block.ts';
import type { ChainParams } from '../../core/params.ts';
import type { ValidatorSet } from '../../core/validators.ts';
import type { WorldState } from '../../state/world-state.ts';
import type { BlockContext, ChainContext, EvidenceRules } from '../../vm/index.ts';
import type { SignatureVerification } from '../verify/service.ts';

/** Finds a validator set the chain has had, by the hash a header carries. */
export type ValidatorSetLookup = (hash: Uint8Array) => ValidatorSet | undefined;

/**
 * Everything building, verifying or importing the block at `height` needs, in one value:
 * the chain's rules (chain id, params, the evidence rules: vm's ChainContext), the
 * parent, the validator set that certifies this height (an emergency transition's, if
 * one is configured here) and the state the block executes on. The block builder,
 * verifier and importer, the consensus driver, admission and replay read only this, never
 * the chain's store, world state or genesis. It describes the head at the time it was
 * taken: take a fresh one after the head moves.
 */
export interface NextBlockContext extends ChainContext {
  /** vm's evidence-tx rules (node/chain/evidence-verifier.ts, built on consensus/). */
  readonly evidenceRules: EvidenceRules;
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
   * The signature verification service and the cache of txs this node verified
   * (node/verify/): block verification verifies signatures there before executing;
   * absent (replay), the executor verifies every signature in line.
   */
  readonly verification?: SignatureVerification;
}

export interface NextBlockParts {
  readonly chainId: string;
  readonly params: ChainParams;
  readonly evidenceRules: EvidenceRules;
  readonly parent: BlockHeader;
  readonly parentHash: Uint8Array;
  readonly parentCertificate: CommitCertificate | null;
  readonly validatorSet: ValidatorSet;
  readonly transition?: ValidatorSet | undefined;
  readonly world: WorldState;
  readonly validatorSets: ValidatorSetLookup;
  readonly verification?: SignatureVerification;
}

/** The one place a NextBlockContext is assembled (Chain for its head, replay for each height). */
export function nextBlockContext(p: NextBlockParts): NextBlockContext {
  return {
    chainId: p.chainId,
    params: p.params,
    evidenceRules: p.evidenceRules,
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
  return { chainId: ctx.chainId, params: ctx.params, evidenceRules: ctx.evidenceRules, height: ctx.height, timestamp, proposer };
}
