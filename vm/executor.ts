/**
 * Block execution.
 *
 * Fees: every included tx pays its full `fee` from the sender's balance. The block's fees
 * are summed and credited to the block proposer's account once, in `finish()` (before
 * end-of-block hooks), with a block-level `fees` event. Under round-robin proposing this
 * is simple and fair; a fee pool distributed by an end-of-block hook can replace it later
 * without changing receipts.
 *
 * Nonces: the sender's nonce increments on every included tx, successful or not.
 *
 * Validity vs execution: a tx that fails validity (vm/validity.ts) is not included:
 * `tryApply` returns the error and changes nothing; `executeBlock` rejects the whole block.
 * A tx whose handler throws a JouleError during execution IS included: fee charged, nonce
 * bumped, its own writes (a nested overlay) discarded, receipt success=false with the
 * code. Any other exception is a bug, not a verdict on the tx: it propagates and this
 * executor refuses further use, so no validator commits a half-applied block.
 *
 * Verification: every validity rule runs for every tx, with one exception. A tx that THIS
 * node already verified completely (its signature sets: the envelope's and its handler's
 * `signatureSets`, i.e. every signature it carries; at admission, or before executing the
 * block on its worker pool), identified by its hash through `verified`, may skip those
 * signature checks; nothing else is ever skipped. A tx no one here verified (a proposal's,
 * a synced block's) is verified here, in full: a proposer cannot include what no one checked.
 *
 * Determinism: no clock (the block timestamp is in ctx), no I/O, no randomness, no floats;
 * state changes come out sorted by key; receipts in tx order.
 *
 * Reads: the node loads what the block declared (vm/access.ts) before it runs. In strict
 * mode (the default; tests, devnets) each tx and hook reads through an AccessGuard of its
 * own declaration, so an undeclared read throws: STATE_UNDECLARED_READ from a tx,
 * HOOK_FAILED from a hook, both fatal (core/errors.ts isFatal): the node halts rather than
 * judge a block on a wrong declaration.
 */
import type { BlockEvent, Receipt } from '../core/block.ts';
import { toHex } from '../core/bytes.ts';
import { ErrorCode, isJouleError, JouleError } from '../core/errors.ts';
import { formatAddress } from '../core/keys.ts';
import type { Tx } from '../core/tx.ts';
import type { Account } from '../state/accounts.ts';
import { readAccount, writeAccount } from './accounts.ts';
import { StateAccessError } from '../state/loaded-state.ts';
import { StateOverlay, type StateReader } from '../state/overlay.ts';
import { AccessGuard, hookGuard, txAccess } from './access.ts';
import { orderHooks, runEndBlockHooks } from './end-block.ts';
import { endBlockHooks } from './registry.ts';
import type { BlockContext, BlockResult, EndBlockHook } from './types.ts';
import { validateTx, type ValidTx } from './validity.ts';

export interface ExecutorOptions {
  /**
   * True for the hash of a tx this node verified completely itself (node/verify/verified-txs.ts:
   * admission and block verification put them there), whose signatures execution may then
   * skip. Absent: every tx is verified. Must answer by hash alone: equal hashes are equal bytes.
   */
  readonly verified?: (txHash: Uint8Array) => boolean;
  /**
   * Default true: every read of a tx or hook outside its declared access list throws
   * StateAccessError (state/loaded-state.ts). The node turns it off in production
   * (config state.strictAccess), where the loaded state counts and serves such a read.
   */
  readonly strictAccess?: boolean;
  /** The end-of-block hooks to run instead of the registry's: for tests of the hook rules only. */
  readonly endBlockHooks?: readonly EndBlockHook[];
}

export class BlockExecutor {
  private readonly state: StateOverlay;
  private readonly ctx: BlockContext;
  private readonly verified: ((txHash: Uint8Array) => boolean) | undefined;
  private readonly strict: boolean;
  private readonly hooks: readonly EndBlockHook[];
  private readonly receipts: Receipt[] = [];
  private fees = 0n;
  private done = false;
  private broken = false;

  constructor(state: StateReader, ctx: BlockContext, opts: ExecutorOptions = {}) {
    this.state = new StateOverlay(state);
    this.ctx = ctx;
    this.verified = opts.verified;
    this.strict = opts.strictAccess ?? true;
    this.hooks = opts.endBlockHooks === undefined ? endBlockHooks() : orderHooks(opts.endBlockHooks);
  }

  /** Number of txs included so far. */
  get txCount(): number {
    return this.receipts.length;
  }

  /**
   * Applies `tx` if it is valid against the state so far. Returns its receipt, or the
   * validity error (and then nothing changed: the builder drops the tx).
   */
  tryApply(tx: Tx): Receipt | JouleError {
    this.assertUsable();
    try {
      return this.apply(tx);
    } catch (e) {
      if (!(e instanceof StateAccessError)) throw e;
      this.broken = true;
      // Never a verdict on the tx or the block: the declaration is wrong, here and everywhere.
      throw new JouleError(ErrorCode.STATE_UNDECLARED_READ, `${e.message}; this node stops rather than judge a block on state it did not load`, 'tx');
    }
  }

  private apply(tx: Tx): Receipt | JouleError {
    const reader: StateReader = this.strict ? new AccessGuard(this.state, txAccess(tx), () => `tx ${toHex(tx.hash)} (type ${tx.type})`) : this.state;
    let valid: ValidTx;
    try {
      valid = validateTx(reader, tx, this.ctx, { verifySignature: this.verified?.(tx.hash) !== true });
    } catch (e) {
      if (isJouleError(e)) return e;
      throw e;
    }
    // From here on the tx is included; a non-Joule exception leaves a half-applied tx.
    this.broken = true;
    const sender: Account = { ...valid.account, nonce: valid.account.nonce + 1, balance: valid.account.balance - tx.fee };
    writeAccount(this.state, tx.from, sender);
    this.fees += tx.fee;

    const txState = new StateOverlay(reader);
    let receipt: Receipt;
    try {
      const events = valid.handler.execute({ state: txState, tx, body: valid.body, block: this.ctx, sender, index: this.receipts.length });
      this.state.absorb(txState);
      receipt = { txHash: tx.hash, success: true, code: '', feePaid: tx.fee, events };
    } catch (e) {
      if (!isJouleError(e)) throw e;
      receipt = { txHash: tx.hash, success: false, code: e.code, feePaid: tx.fee, events: [] };
    }
    this.broken = false;
    this.receipts.push(receipt);
    return receipt;
  }

  /**
   * Credits fees, runs end-of-block hooks, and returns the block's result. Call once. A hook
   * that throws fails the whole block with HOOK_FAILED (vm/end-block.ts): a node error to
   * stop on, never a verdict on the block.
   */
  finish(): BlockResult {
    this.assertUsable();
    this.done = true;
    const events: BlockEvent[] = [];
    if (this.fees > 0n) {
      const proposer = readAccount(this.state, this.ctx.proposer);
      writeAccount(this.state, this.ctx.proposer, { ...proposer, balance: proposer.balance + this.fees });
      events.push({
        type: 'fees',
        attributes: [
          ['proposer', formatAddress(this.ctx.proposer)],
          ['amount', this.fees.toString()],
        ],
      });
    }
    const guard = this.strict ? (hook: EndBlockHook) => hookGuard(this.state, hook, this.ctx) : undefined;
    events.push(...runEndBlockHooks(this.state, this.ctx, this.hooks, guard));
    return { receipts: this.receipts, changes: this.state.changes(), events, feesCollected: this.fees };
  }

  private assertUsable(): void {
    if (this.done) throw new Error('BlockExecutor: finish() was already called');
    if (this.broken) throw new Error('BlockExecutor: a previous tx failed with an internal error; the block cannot be completed');
  }
}

/**
 * Executes a block's txs strictly: any invalid tx makes the block invalid
 * (BLOCK_INVALID naming `txs[i]`, with the tx's own code in the message), as does a tx
 * count above params.maxBlockTxs. (Byte limits are checked by whoever decodes the block;
 * a builder using BlockExecutor.tryApply stops at maxBlockTxs itself.)
 */
export function executeBlock(state: StateReader, txs: readonly Tx[], ctx: BlockContext, opts: ExecutorOptions = {}): BlockResult {
  if (txs.length > ctx.params.maxBlockTxs) {
    throw new JouleError(ErrorCode.BLOCK_INVALID, `${txs.length} txs, limit ${ctx.params.maxBlockTxs}`, 'txs');
  }
  const ex = new BlockExecutor(state, ctx, opts);
  for (let i = 0; i < txs.length; i++) {
    const tx = txs[i]!;
    const r = ex.tryApply(tx);
    if (r instanceof JouleError) {
      throw new JouleError(ErrorCode.BLOCK_INVALID, `tx ${i} (${toHex(tx.hash)}) is invalid: ${r.code}: ${r.message}`, `txs[${i}]`);
    }
  }
  return ex.finish();
}
