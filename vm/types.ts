import type { BlockEvent, Receipt } from '../core/block.ts';
import type { ChainParams, TierParams } from '../core/params.ts';
import type { Tx } from '../core/tx.ts';
import type { ValidatorSet } from '../core/validators.ts';
import type { Account } from '../state/accounts.ts';
import type { StateChange, StateOverlay, StateReader } from '../state/overlay.ts';

export type TierName = TierParams['name'];

/** What validity checks need: the chain they run on. */
export interface ChainContext {
  readonly chainId: string;
  readonly params: ChainParams;
  /**
   * Verifies an evidence tx body (consensus/evidence.ts decodeEvidence + verifyEvidence
   * for this chain id) against the validator set in state. vm/ may not import consensus/,
   * so node/ injects it; without it every evidence tx is invalid. Must be pure and never
   * throw (false for anything that is not valid evidence).
   */
  readonly verifyEvidence?: (body: Uint8Array, validators: ValidatorSet) => boolean;
}

/** The block being executed. `timestamp` (ms) is the VM's only clock. */
export interface BlockContext extends ChainContext {
  readonly height: number;
  readonly timestamp: number;
  /** Address of the proposer; block fees are credited to it. */
  readonly proposer: Uint8Array;
}

export interface BlockResult {
  readonly receipts: Receipt[];
  /** Every state write of the block, sorted by key (StateOverlay.changes()). */
  readonly changes: StateChange[];
  /**
   * Block-level events (fee credit, end-of-block hooks). Per-transaction events are in
   * each receipt, not repeated here.
   */
  readonly events: BlockEvent[];
  readonly feesCollected: bigint;
}

/** What a handler's `execute` sees. */
export interface ExecContext<B> {
  /** The tx's own overlay: discarded if `execute` throws a JouleError. */
  readonly state: StateOverlay;
  readonly tx: Tx;
  readonly body: B;
  readonly block: BlockContext;
  /** Sender's account after the fee was charged and the nonce bumped. */
  readonly sender: Account;
}

/**
 * One transaction type. Adding a type = writing one of these and listing it in
 * vm/registry.ts; the admission path, the executor, the mempool tiering and RPC's
 * description all go through the registry.
 *
 * Validity (a tx that fails it can never be in a block) is: the envelope checks done by
 * vm/validity.ts, then `decodeBody`, `validate` (stateless), `checkState` (stateful
 * preconditions), and last `verify` (extra signatures, after the tx's own). Execution failures (`execute` throwing a
 * JouleError) still include the tx: fee charged, nonce bumped, its writes discarded.
 */
export interface TxHandler<B = unknown> {
  readonly type: number;
  /** Stable name used in RPC (`typeName`) and metrics. */
  readonly name: string;
  readonly tier: TierName;
  /** Throws CODEC_* / TX_INVALID_FIELD naming `tx.body.*`. Pure. */
  decodeBody(bytes: Uint8Array): B;
  /** Stateless checks beyond the body's shape (may use params). */
  validate?(body: B, tx: Tx, ctx: ChainContext): void;
  /**
   * Signatures inside the body (a proof of possession, BLS aggregates of telemetry) and
   * nothing else: it is skipped for a tx this node already verified (vm/executor.ts), so a
   * rule that is not a signature check belongs in `validate` or `checkState`.
   */
  verify?(body: B, tx: Tx, ctx: ChainContext): boolean;
  /** Amount the sender must hold on top of the fee (checked as TX_INSUFFICIENT_BALANCE). */
  spend(body: B): bigint;
  /** Field named when the sender cannot cover `spend` (default `tx.body`). */
  readonly spendField?: string;
  /**
   * The state keys `checkState` and `execute` read, besides the sender's account (always
   * read): the tx's access list. The node loads them before the block runs, so execution
   * stays synchronous and does no I/O (state/loaded-state.ts); writes need no declaring.
   * A read outside it fails loudly in strict mode (tests): vm/access.ts. Pure.
   */
  keys?(body: B, tx: Tx): readonly Uint8Array[];
  /** Key prefixes the tx lists (StateReader.iterate), each loaded whole: small record kinds only. Pure. */
  prefixes?(body: B, tx: Tx): readonly Uint8Array[];
  /** Stateful preconditions (roles, membership); throwing makes the tx invalid. */
  checkState?(state: StateReader, body: B, tx: Tx, ctx: ChainContext): void;
  /** Applies the tx; returns its events. Throws JouleError for an execution failure. */
  execute(ctx: ExecContext<B>): BlockEvent[];
  /** JSON-ready body for RPC: addresses bech32, amounts decimal strings. */
  describe(body: B): Record<string, unknown>;
}

/** End-of-block work (interval close, auction clearing, settlement). */
export interface EndBlockHook {
  readonly name: string;
  /** Hooks run in ascending `order`, then by name: never by registration order. */
  readonly order: number;
  /** The key prefixes the hook reads or lists, loaded whole before the block runs (its access list). */
  prefixes(block: BlockContext): readonly Uint8Array[];
  /** Single keys the hook reads outside those prefixes. */
  keys?(block: BlockContext): readonly Uint8Array[];
  run(state: StateOverlay, block: BlockContext): BlockEvent[];
}
