import type { BlockEvent, Receipt } from '../core/block.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { ChainParams, TierParams } from '../core/params.ts';
import type { SignatureSet } from '../core/signature-sets.ts';
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
   * The height the tx is checked for: the block's, or at admission the next block's.
   * Rules that depend on it (a device key valid at that height) refuse a tx checked without it.
   */
  readonly height?: number;
  /**
   * The block's timestamp, ms; at admission the node's clock, as the next block's time.
   * Absent (a check outside blocks and admission): rules against block time are left to inclusion.
   */
  readonly timestamp?: number;
  /**
   * True when a tx enters the mempool (admission; not re-validation, not a block): stricter
   * rules keep out of the pool what would only occupy it. A telemetry batch enters only if
   * the sender operates every device it names (in a block, another's device is skipped):
   * otherwise anyone could hold other operators' devices' places in the pool (its
   * per-device bound) with their public readings.
   */
  readonly entering?: boolean;
  /**
   * The rules of an evidence tx body (core/evidence.ts decodeEvidence + consensus'
   * verifyEvidence for this chain id), against the validator set in state. vm/ may not
   * import consensus/, so node/ injects them; without them every evidence tx is invalid.
   */
  readonly evidenceRules?: EvidenceRules;
}

/** Pure, never throwing checks of an evidence body (core/evidence.ts), split like validity itself: signatures apart. */
export interface EvidenceRules {
  /** Everything but the signatures: canonical distinct pair of one kind, height, round and author, the author in `validators`. */
  check(body: Uint8Array, validators: ValidatorSet): boolean;
  /** The author's two Ed25519 signatures (its identity key from `validators`); undefined when the body does not decode or its author is not in `validators`. */
  signatureSets(body: Uint8Array, validators: ValidatorSet): readonly SignatureSet[] | undefined;
}

/**
 * One signature a tx carries, as data, with what its failure is called: TX_BAD_SIGNATURE
 * naming `field`, unless the type says otherwise (`code`).
 */
export interface TxSignatureSet {
  readonly set: SignatureSet;
  readonly field: string;
  readonly message: string;
  readonly code?: ErrorCode;
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
  /** The tx's position among the block's included txs, from 0 (the auction's time priority). */
  readonly index: number;
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
 * preconditions), and last the signatures: the envelope's and `signatureSets`. Execution
 * failures (`execute` throwing a JouleError) still include the tx: fee charged, nonce
 * bumped, its writes discarded.
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
   * The signatures inside the body (a proof of possession, BLS aggregates of telemetry) as
   * data, and nothing else: the node verifies them before execution (node/verify/, off the
   * event loop), the executor verifies them itself for a tx no one verified, and skips them
   * for a tx this node already verified (vm/executor.ts); so a rule that is not a signature
   * check belongs in `validate` or `checkState`. `state` is the state the tx is checked
   * against (keys registered in state: evidence authors, devices). Throws a JouleError when
   * the sets cannot be formed (then `validate` or `checkState` fails as well). Pure.
   */
  signatureSets?(body: B, tx: Tx, ctx: ChainContext, state: StateReader): readonly TxSignatureSet[];
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

/**
 * One block's allowance of work for one end-of-block hook, in work units: items processed
 * (orders matched, intervals closed, trades settled), never time, so every node stops at
 * the same item.
 */
export interface WorkBudget {
  /** Units left in this block. */
  readonly remaining: number;
  /**
   * Draws `units` (a non-negative integer, default 1) when that many are left and returns
   * true; otherwise draws nothing and returns false, and the hook stops and leaves the rest
   * of its work, in the state, for the next block.
   */
  take(units?: number): boolean;
}

/** The first `limit` entries of `prefix` from `from` (a bounded listing). */
export interface HookRange {
  readonly prefix: Uint8Array;
  readonly from?: Uint8Array;
  readonly limit: number;
}

/** Keys, whole prefixes and bounded slices read. */
export interface HookReads {
  readonly keys: readonly Uint8Array[];
  readonly prefixes: readonly Uint8Array[];
  readonly ranges?: readonly HookRange[];
}

/**
 * End-of-block work (interval close, auction clearing, settlement). The rules, enforced by
 * vm/end-block.ts (vm/README.md "End-of-block hooks"):
 * - `run` must not throw on any state a valid block can reach. If it does, that is this
 *   node's bug, not the block's fault: the block fails with HOOK_FAILED and the node halts
 *   rather than certify a block others may compute differently. Never skipped.
 * - Before each item of work it draws from `budget` (`workPerBlock` units a block), and
 *   what the budget does not cover waits in the state for the next block, so a backlog
 *   (100,000 orders to clear) spreads over blocks instead of stalling one.
 * - An item that writes draws by what it writes, a unit being about a transfer's writes (two
 *   or three state records): every record written is a path of the state tree that the
 *   proposer and then each validator hash before they vote, within the round timer. At a
 *   unit an item, a fleet's close and a busy market's clearing wrote 3,500-20,000 records in
 *   one block and outlasted it (benchmarks/README.md). The close, the clearing and the
 *   settlement weigh their items so (CLOSE_UNITS, CLEARING_UNITS, SETTLEMENT_UNITS); the
 *   agreements' and flexibility's items still draw one each.
 */
export interface EndBlockHook {
  readonly name: string;
  /** Hooks run in ascending `order`, then by name: never by registration order. */
  readonly order: number;
  /** The key prefixes the hook reads or lists, loaded whole before the block runs (its access list). */
  prefixes(block: BlockContext): readonly Uint8Array[];
  /** Single keys the hook reads outside those prefixes. */
  keys?(block: BlockContext): readonly Uint8Array[];
  /**
   * Bounded slices the hook lists, the first `limit` entries of `prefix` (from `from`),
   * loaded with the rest: a queue of which a block takes at most its budget's worth.
   */
  ranges?(block: BlockContext): readonly HookRange[];
  /**
   * What the hook reads that the declared state names (a queue's entries name the records
   * they concern): computed from that state (`declared`: the prefixes, keys and slices
   * above, loaded), then loaded too, before the block runs. Its answer must not depend on
   * anything a tx of the block writes (the node computes it before the txs run, the strict
   * guard after): a queue's due entries, which no tx adds, qualify.
   */
  dependent?(block: BlockContext, declared: StateReader): HookReads;
  /**
   * A third stage, for entries that name a queue whose entries name records (a resolution
   * marker names a group of held trades, each trade its escrow and accounts): computed from
   * the state with `dependent`'s reads loaded too, then loaded. The same rule: its answer
   * must not depend on anything a tx of the block writes.
   */
  dependentNext?(block: BlockContext, declared: StateReader): HookReads;
  /** Work units per block (a positive integer; all hooks together at most MAX_END_BLOCK_WORK). */
  readonly workPerBlock: number;
  run(state: StateOverlay, block: BlockContext, budget: WorkBudget): BlockEvent[];
}
