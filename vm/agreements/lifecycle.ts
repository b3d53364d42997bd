import type { BlockEvent } from '../../core/block.ts';
import { COOLING_OFF_MS, type Agreement } from '../../core/agreement.ts';
import { toHex } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import {
  decodeAgreementAmountBody,
  decodeAgreementRefBody,
  describeAgreementAmount,
  describeAgreementRef,
  type AgreementAmountBody,
  type AgreementRefBody,
} from '../../core/tx/agreement-actions.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { agreementKey, putAgreement, timerKey } from '../../state/agreements.ts';
import type { StateReader } from '../../state/overlay.ts';
import { addressText, readAccount, writeAccount } from '../accounts.ts';
import type { ChainContext, ExecContext, TxHandler } from '../types.ts';
import { collateralOf, levelOf, withCall, withCollateral } from './funds.ts';
import { requireAgreement, requireParty, requirePhase } from './rules.ts';

/**
 * Types 35-37: signing, withdrawal and collateral.
 * - sign: the party that did not propose, while proposed and before the first slot; the
 *   cooling-off runs from this block's time for COOLING_OFF_MS.
 * - withdraw: either party, while proposed (the proposer takes it back, the counterparty
 *   declines) or while signed and the block time is before the cooling-off's end. No money
 *   was posted yet (collateral comes after the cooling-off), so nothing moves.
 * - collateralise: either party posts `amount` from its balance: once signed, from the
 *   cooling-off's end until the first slot starts; and as a top-up while collateralised,
 *   executing or disputed. When both parties hold the level (core/agreement.ts
 *   collateralLevel) the agreement is collateralised; a top-up that brings a party to the
 *   level clears its margin call.
 */

const phaseError = (why: string) => new JouleError(ErrorCode.AGREEMENT_PHASE, why, 'tx.body.id');
const coolingOffEnd = (a: Agreement) => a.signedAtMs + COOLING_OFF_MS;

function checkSign(state: StateReader, body: AgreementRefBody, tx: Tx, ctx: ChainContext): Agreement {
  const a = requireAgreement(state, body.id);
  const r = requireParty(a, tx);
  if (r === a.proposer) throw new JouleError(ErrorCode.AGREEMENT_NOT_PARTY, 'the proposer cannot sign its own proposal; the counterparty signs', 'tx.sender');
  requirePhase(a, ['proposed'], 'signing');
  if (ctx.timestamp !== undefined && ctx.timestamp >= a.firstSlotMs) throw phaseError(`the first slot started at ${a.firstSlotMs} ms`);
  return a;
}

function checkWithdraw(state: StateReader, body: AgreementRefBody, tx: Tx, ctx: ChainContext): Agreement {
  const a = requireAgreement(state, body.id);
  requireParty(a, tx);
  requirePhase(a, ['proposed', 'signed'], 'withdrawal');
  if (a.phase === 'signed' && ctx.timestamp !== undefined && ctx.timestamp >= coolingOffEnd(a))
    throw phaseError(`the cooling-off ended at ${coolingOffEnd(a)} ms, not after the block time ${ctx.timestamp} ms`);
  return a;
}

function checkCollateral(state: StateReader, body: AgreementAmountBody, tx: Tx, ctx: ChainContext): Agreement {
  const a = requireAgreement(state, body.id);
  requireParty(a, tx);
  requirePhase(a, ['signed', 'collateralised', 'executing', 'disputed'], 'collateral');
  if (a.phase === 'signed' && ctx.timestamp !== undefined) {
    if (ctx.timestamp < coolingOffEnd(a)) throw phaseError(`the cooling-off runs until ${coolingOffEnd(a)} ms; collateral comes after it`);
    if (ctx.timestamp >= a.firstSlotMs) throw phaseError(`the first slot started at ${a.firstSlotMs} ms`);
  }
  return a;
}

function event(type: string, a: Agreement, tx: Tx, more: [string, string][] = []): BlockEvent {
  return { type, attributes: [['agreement', toHex(a.id)], ['party', addressText(tx.from)], ...more] };
}

export const agreementSignHandler: TxHandler<AgreementRefBody> = {
  type: TxType.agreementSign,
  name: 'agreement-sign',
  tier: 'peer_to_peer',
  decodeBody: decodeAgreementRefBody,
  spend: () => 0n,
  keys: (body) => [agreementKey(body.id)],
  checkState: (state, body, tx, ctx) => void checkSign(state, body, tx, ctx),
  execute({ state, tx, body, block }: ExecContext<AgreementRefBody>): BlockEvent[] {
    const a = checkSign(state, body, tx, block);
    putAgreement(state, { ...a, phase: 'signed', signedAtMs: block.timestamp });
    return [event('agreement-signed', a, tx, [['coolingOffEndsMs', String(block.timestamp + COOLING_OFF_MS)]])];
  },
  describe: describeAgreementRef,
};

export const agreementWithdrawHandler: TxHandler<AgreementRefBody> = {
  type: TxType.agreementWithdraw,
  name: 'agreement-withdraw',
  tier: 'peer_to_peer',
  decodeBody: decodeAgreementRefBody,
  spend: () => 0n,
  keys: (body) => [agreementKey(body.id)],
  checkState: (state, body, tx, ctx) => void checkWithdraw(state, body, tx, ctx),
  execute({ state, tx, body, block }: ExecContext<AgreementRefBody>): BlockEvent[] {
    const a = checkWithdraw(state, body, tx, block);
    putAgreement(state, { ...a, phase: 'withdrawn' });
    state.delete(timerKey(a.firstSlotMs, a.id, 'start', 0));
    return [event('agreement-withdrawn', a, tx)];
  },
  describe: describeAgreementRef,
};

export const agreementCollateraliseHandler: TxHandler<AgreementAmountBody> = {
  type: TxType.agreementCollateralise,
  name: 'agreement-collateralise',
  tier: 'peer_to_peer',
  decodeBody: decodeAgreementAmountBody,
  spend: (body) => body.amount,
  spendField: 'tx.body.amount',
  keys: (body) => [agreementKey(body.id)],
  checkState: (state, body, tx, ctx) => void checkCollateral(state, body, tx, ctx),
  execute({ state, tx, body, block }: ExecContext<AgreementAmountBody>): BlockEvent[] {
    let a = checkCollateral(state, body, tx, block);
    const r = requireParty(a, tx);
    const acc = readAccount(state, tx.from);
    writeAccount(state, tx.from, { ...acc, balance: acc.balance - body.amount, locked: acc.locked + body.amount });
    a = withCollateral(a, r, collateralOf(a, r) + body.amount);
    const level = levelOf(a);
    if (collateralOf(a, r) >= level) a = withCall(a, r, 0);
    if (a.phase === 'signed' && a.buyerCollateral >= level && a.sellerCollateral >= level) a = { ...a, phase: 'collateralised' };
    putAgreement(state, a);
    return [
      event('agreement-collateral', a, tx, [
        ['amount', body.amount.toString()],
        ['collateral', collateralOf(a, r).toString()],
        ['level', level.toString()],
        ['phase', a.phase],
      ]),
    ];
  },
  describe: describeAgreementAmount,
};
