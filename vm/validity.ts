import { ErrorCode, JouleError } from '../core/errors.ts';
import { verifySignatureSet } from '../core/signature-sets.ts';
import { txSignatureSet, type Tx } from '../core/tx.ts';
import type { Account } from '../state/accounts.ts';
import { readAccount } from './accounts.ts';
import type { StateReader } from '../state/overlay.ts';
import { requireTxHandler } from './registry.ts';
import { tierParams } from './tiers.ts';
import type { ChainContext, TxHandler, TxSignatureSet } from './types.ts';

/**
 * Validity of one transaction against a state: the rules a tx must pass to be admitted
 * to the mempool and to be included in a block. Cheap stateless checks run first, then
 * the signature, then the state reads, so garbage costs little and a forged tx never
 * touches state.
 */

export interface CheckOptions {
  /**
   * Default true: the tx's signatures (envelope and the handler's `signatureSets`). False
   * only for a tx whose signatures this node verified completely (see vm/executor.ts) or
   * verifies apart (node/txs/admission.ts); every other rule runs.
   */
  readonly verifySignature?: boolean;
  /** Mempool admission: a nonce above the account's is queued, not rejected. */
  readonly allowFutureNonce?: boolean;
}

export interface ValidTx {
  readonly handler: TxHandler;
  readonly body: unknown;
  /** The sender's account as read from the state the tx was checked against. */
  readonly account: Account;
}

// A decoded body depends only on the tx's bytes, which are immutable; caching by tx
// object saves decoding twice when the mempool's checked Tx reaches the block builder.
const bodyCache = new WeakMap<Tx, unknown>();

/** The tx's body decoded by its handler (memoised per Tx object). Throws the handler's decode error. */
export function decodedBody(handler: TxHandler, tx: Tx): unknown {
  let body = bodyCache.get(tx);
  if (body === undefined) {
    body = handler.decodeBody(tx.body);
    bodyCache.set(tx, body);
  }
  return body;
}

/** Everything that reads no state, except signatures. Throws JouleError naming the field. */
function checkStateless(tx: Tx, ctx: ChainContext): { handler: TxHandler; body: unknown } {
  const { params } = ctx;
  if (tx.bytes.length > params.maxTxBytes) {
    throw new JouleError(ErrorCode.TX_OVERSIZE, `transaction is ${tx.bytes.length} bytes, limit ${params.maxTxBytes}`, 'tx');
  }
  if (tx.chainId !== ctx.chainId) {
    throw new JouleError(ErrorCode.TX_WRONG_CHAIN, `chain id ${JSON.stringify(tx.chainId)}, expected ${JSON.stringify(ctx.chainId)}`, 'tx.chainId');
  }
  const handler = requireTxHandler(tx);
  if (tx.fee < params.minFee) {
    throw new JouleError(ErrorCode.TX_FEE_TOO_LOW, `fee ${tx.fee} is below the chain minimum ${params.minFee}`, 'tx.fee');
  }
  const { baseFee } = tierParams(params, handler.tier);
  if (tx.fee < baseFee) {
    throw new JouleError(ErrorCode.TX_FEE_TOO_LOW, `fee ${tx.fee} is below the ${handler.tier} tier base fee ${baseFee}`, 'tx.fee');
  }
  const body = decodedBody(handler, tx);
  handler.validate?.(body, tx, ctx);
  return { handler, body };
}

const ENVELOPE = { field: 'tx.signature', message: 'signature does not verify' } as const;

function signatureSetsOf(state: StateReader, tx: Tx, handler: TxHandler, body: unknown, ctx: ChainContext): TxSignatureSet[] {
  const own: TxSignatureSet = { set: txSignatureSet(tx), ...ENVELOPE };
  const inBody = handler.signatureSets?.(body, tx, ctx, state);
  return inBody === undefined || inBody.length === 0 ? [own] : [own, ...inBody];
}

/** The rejection of a tx whose set `s` does not verify. */
export function signatureFailure(s: TxSignatureSet): JouleError {
  return new JouleError(s.code ?? ErrorCode.TX_BAD_SIGNATURE, s.message, s.field);
}

/** The expensive part of validity, run last so that cheaper rejections never pay for it. */
function checkSignatures(state: StateReader, tx: Tx, handler: TxHandler, body: unknown, ctx: ChainContext): void {
  for (const s of signatureSetsOf(state, tx, handler, body, ctx)) if (!verifySignatureSet(s.set)) throw signatureFailure(s);
}

/**
 * Every signature `tx` carries, as data (the envelope's first, then its handler's), as
 * checked against `state`: what validity verifies last, for a caller that verifies them
 * elsewhere (a worker pool) and then runs validity with `verifySignature: false`. Throws the
 * tx's JouleError when no sets can be formed (an invalid body; evidence whose author
 * `state` does not know).
 */
export function txSignatureSets(state: StateReader, tx: Tx, ctx: ChainContext): TxSignatureSet[] {
  const { handler, body } = checkStateless(tx, ctx);
  return signatureSetsOf(state, tx, handler, body, ctx);
}

/**
 * Full validity against `state`. `balance` is the spendable amount (locked funds are a
 * separate bucket of the account and never pay fees).
 */
export function validateTx(state: StateReader, tx: Tx, ctx: ChainContext, opts: CheckOptions = {}): ValidTx {
  const { handler, body } = checkStateless(tx, ctx);
  const account = readAccount(state, tx.from);
  if (tx.nonce < account.nonce) {
    throw new JouleError(ErrorCode.TX_NONCE_TOO_LOW, `nonce ${tx.nonce} already used; next is ${account.nonce}`, 'tx.nonce');
  }
  if (tx.nonce > account.nonce && opts.allowFutureNonce !== true) {
    throw new JouleError(ErrorCode.TX_NONCE_TOO_HIGH, `nonce ${tx.nonce} is ahead of the next nonce ${account.nonce}`, 'tx.nonce');
  }
  if (account.balance < tx.fee) {
    throw new JouleError(ErrorCode.TX_INSUFFICIENT_BALANCE, `balance ${account.balance} cannot pay fee ${tx.fee}`, 'tx.fee');
  }
  const spend = handler.spend(body);
  if (account.balance - tx.fee < spend) {
    throw new JouleError(ErrorCode.TX_INSUFFICIENT_BALANCE, `balance ${account.balance} cannot pay fee ${tx.fee} + ${spend}`, handler.spendField ?? 'tx.body');
  }
  handler.checkState?.(state, body, tx, ctx);
  // Last: a stale, unfunded or otherwise invalid tx (gossip brings many already included)
  // is refused before the Ed25519 verification that dominates admission cost.
  if (opts.verifySignature ?? true) checkSignatures(state, tx, handler, body, ctx);
  return { handler, body, account };
}

/**
 * Admission check for the mempool (with allowFutureNonce) and RPC. Throws the tx's
 * JouleError; returns nothing on success.
 */
export function checkTx(state: StateReader, tx: Tx, ctx: ChainContext, opts?: CheckOptions): void {
  validateTx(state, tx, ctx, opts);
}
