import type { BlockEvent } from '../../core/block.ts';
import { equalBytes } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { energyUtxoKey } from '../../core/state-keys.ts';
import type { Settlement, Trade } from '../../core/market.ts';
import { reversalStatus, type GovernorSet, type Reversal, type ReversalTarget } from '../../core/reversal.ts';
import { decodeReversalApproveBody, type ReversalApproveBody } from '../../core/tx/reversal-approve.ts';
import { decodeReversalProposeBody, type ReversalProposeBody } from '../../core/tx/reversal-propose.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { accountKey } from '../../state/keys.ts';
import { getSettlement, getTrade, marketId, settlementKey, tradeKey } from '../../state/markets.ts';
import type { StateOverlay, StateReader } from '../../state/overlay.ts';
import {
  GOVERNORS_KEY,
  getGovernorSet,
  getReversal,
  NEXT_REVERSAL_ID_KEY,
  nextReversalId,
  putNextReversalId,
  putReversal,
  reversalKey,
} from '../../state/reversals.ts';
import { addressText } from '../accounts.ts';
import type { ExecContext, TxHandler } from '../types.ts';
import { tradeUtxoId } from './settlement.ts';
import { reverseSettlement } from './reverse.ts';

/**
 * Types 46 and 47: governed reversal of a trade's settlement. A governor (genesis names
 * them and the threshold k, state/reversals.ts) proposes, with a reason; other governors
 * approve, each once, the proposal counting as the proposer's approval. The approval that
 * brings the count to k executes the reversal in that tx (vm/markets/reverse.ts): the
 * settlement's amounts move back, or the tx fails whole with REVERSAL_FUNDS_GONE /
 * REVERSAL_ENERGY_GONE and changes nothing but its fee and nonce. The proposal then stays
 * open with the approvals it had (the failed approval is not recorded), so the approver
 * may try again once the amounts are back (with k = 1 the failed proposal leaves no
 * record at all). A settlement has at most one reversal, open or executed, ever; nothing
 * else in the VM writes a reversal or moves a settlement's amounts back.
 */

const field = (f: string) => `tx.body.${f}`;

interface Settled {
  readonly governors: GovernorSet;
  readonly trade: Trade;
  readonly settlement: Settlement;
}

/** The rules both types share: a governor sender, a settled trade whose parties the body names. */
function settled(state: StateReader, t: ReversalTarget, tx: Tx): Settled {
  const governors = getGovernorSet(state);
  if (governors === undefined || !governors.governors.some((g) => equalBytes(g, tx.from)))
    throw new JouleError(ErrorCode.REVERSAL_NOT_GOVERNOR, `${addressText(tx.from)} is not a governor of this chain`, 'tx.sender');
  const m = marketId(t.zone, t.intervalStartMs);
  const trade = getTrade(state, m, t.seq);
  const settlement = trade === undefined ? undefined : getSettlement(state, m, t.seq);
  if (trade === undefined || settlement === undefined)
    throw new JouleError(
      ErrorCode.REVERSAL_UNKNOWN_SETTLEMENT,
      `trade ${t.seq} of market ${t.zone} ${t.intervalStartMs} ${trade === undefined ? 'does not exist' : 'has not settled'}`,
      field('seq'),
    );
  if (!equalBytes(trade.buyer, t.buyer)) throw new JouleError(ErrorCode.TX_INVALID_FIELD, `the trade's buyer is ${addressText(trade.buyer)}`, field('buyer'));
  if (!equalBytes(trade.seller, t.seller))
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `the trade's seller is ${addressText(trade.seller)}`, field('seller'));
  return { governors, trade, settlement };
}

function alreadyReversed(r: Reversal): JouleError {
  return new JouleError(ErrorCode.REVERSAL_ALREADY_REVERSED, `this settlement was reversed (reversal ${r.id}, block ${r.executedHeight})`, field('seq'));
}

function checkPropose(state: StateReader, body: ReversalProposeBody, tx: Tx): Settled {
  const s = settled(state, body, tx);
  const existing = getReversal(state, body);
  if (existing !== undefined) {
    if (reversalStatus(existing) === 'executed') throw alreadyReversed(existing);
    throw new JouleError(ErrorCode.REVERSAL_ALREADY_PROPOSED, `reversal ${existing.id} of this settlement is open: approve it instead`, field('seq'));
  }
  return s;
}

function checkApprove(state: StateReader, body: ReversalApproveBody, tx: Tx): Settled & { reversal: Reversal } {
  const s = settled(state, body, tx);
  const reversal = getReversal(state, body);
  if (reversal === undefined) throw new JouleError(ErrorCode.REVERSAL_UNKNOWN, 'no reversal of this settlement is proposed', field('seq'));
  if (reversalStatus(reversal) === 'executed') throw alreadyReversed(reversal);
  if (reversal.approvers.some((a) => equalBytes(a, tx.from)))
    throw new JouleError(ErrorCode.REVERSAL_ALREADY_APPROVED, `${addressText(tx.from)} already approved reversal ${reversal.id}`, 'tx.sender');
  return { ...s, reversal };
}

function approvedEvent(r: Reversal, approver: Uint8Array, threshold: number): BlockEvent {
  return {
    type: 'reversal-approved',
    attributes: [
      ['id', String(r.id)],
      ['approver', addressText(approver)],
      ['approvals', String(r.approvers.length)],
      ['threshold', String(threshold)],
    ],
  };
}

/** Records `r` with its approvals; at the threshold, executes it first (a failure throws and records nothing). */
function record(state: StateOverlay, ctx: ExecContext<unknown>, s: Settled, r: Reversal): BlockEvent[] {
  const events = [approvedEvent(r, ctx.tx.from, s.governors.threshold)];
  if (r.approvers.length < s.governors.threshold) {
    putReversal(state, r);
    return events;
  }
  const executed: Reversal = { ...r, executedHeight: ctx.block.height };
  events.push(reverseSettlement(state, ctx.block, executed, s.trade, s.settlement));
  putReversal(state, executed);
  return events;
}

function executePropose(ctx: ExecContext<ReversalProposeBody>): BlockEvent[] {
  const { state, tx, body, block } = ctx;
  const s = checkPropose(state, body, tx);
  const id = nextReversalId(state);
  putNextReversalId(state, id + 1);
  const { zone, intervalStartMs, seq, buyer, seller, reason } = body;
  const r: Reversal = { id, zone, intervalStartMs, seq, buyer, seller, reason, approvers: [tx.from], proposedHeight: block.height, executedHeight: undefined };
  const proposed: BlockEvent = {
    type: 'reversal-proposed',
    attributes: [
      ['id', String(id)],
      ['zone', zone],
      ['intervalStartMs', String(intervalStartMs)],
      ['seq', String(seq)],
      ['proposer', addressText(tx.from)],
      ['reason', reason],
    ],
  };
  return [proposed, ...record(state, ctx, s, r)];
}

function executeApprove(ctx: ExecContext<ReversalApproveBody>): BlockEvent[] {
  const s = checkApprove(ctx.state, ctx.body, ctx.tx);
  return record(ctx.state, ctx, s, { ...s.reversal, approvers: [...s.reversal.approvers, ctx.tx.from] });
}

/** What both types read besides the sender: governors, the reversal, the trade, its settlement, both parties, the buyer's energy. */
export function reversalKeys(t: ReversalTarget): Uint8Array[] {
  const m = marketId(t.zone, t.intervalStartMs);
  return [
    GOVERNORS_KEY,
    reversalKey(t),
    tradeKey(m, t.seq),
    settlementKey(m, t.seq),
    accountKey(t.buyer),
    accountKey(t.seller),
    energyUtxoKey(tradeUtxoId(m, t.seq)),
  ];
}

const describeTarget = (t: ReversalTarget) => ({
  zone: t.zone,
  intervalStartMs: t.intervalStartMs,
  seq: t.seq,
  buyer: addressText(t.buyer),
  seller: addressText(t.seller),
});

export const reversalProposeHandler: TxHandler<ReversalProposeBody> = {
  type: TxType.reversalPropose,
  name: 'reversal-propose',
  tier: 'peer_to_peer',
  decodeBody: decodeReversalProposeBody,
  spend: () => 0n,
  keys: (body) => [...reversalKeys(body), NEXT_REVERSAL_ID_KEY],
  checkState: (state, body, tx) => void checkPropose(state, body, tx),
  execute: executePropose,
  describe: (body) => ({ ...describeTarget(body), reason: body.reason }),
};

export const reversalApproveHandler: TxHandler<ReversalApproveBody> = {
  type: TxType.reversalApprove,
  name: 'reversal-approve',
  tier: 'peer_to_peer',
  decodeBody: decodeReversalApproveBody,
  spend: () => 0n,
  keys: reversalKeys,
  checkState: (state, body, tx) => void checkApprove(state, body, tx),
  execute: executeApprove,
  describe: describeTarget,
};
