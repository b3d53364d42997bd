import type { BlockEvent } from '../../core/block.ts';
import { collateralLevel, MARGIN_CALL_MS, type Agreement, type PartyRole } from '../../core/agreement.ts';
import { toHex } from '../../core/bytes.ts';
import { putTimer } from '../../state/agreements.ts';
import type { StateOverlay } from '../../state/overlay.ts';
import { addressText, move, readAccount, unlock } from '../accounts.ts';

/**
 * Money of an agreement: each party's collateral is held in its account's locked funds
 * and counted in the agreement record, so balance + locked over all accounts is conserved
 * by every step here.
 */

export const partyAddress = (a: Agreement, r: PartyRole): Uint8Array => (r === 'buyer' ? a.buyer : a.seller);
export const collateralOf = (a: Agreement, r: PartyRole): bigint => (r === 'buyer' ? a.buyerCollateral : a.sellerCollateral);
export const withCollateral = (a: Agreement, r: PartyRole, c: bigint): Agreement =>
  r === 'buyer' ? { ...a, buyerCollateral: c } : { ...a, sellerCollateral: c };
export const callOf = (a: Agreement, r: PartyRole): number => (r === 'buyer' ? a.buyerCallMs : a.sellerCallMs);
export const withCall = (a: Agreement, r: PartyRole, ms: number): Agreement => (r === 'buyer' ? { ...a, buyerCallMs: ms } : { ...a, sellerCallMs: ms });
export const other = (r: PartyRole): PartyRole => (r === 'buyer' ? 'seller' : 'buyer');

/**
 * Takes up to `amount` from party `r` to `to`: its collateral first then its balance
 * (`collateralFirst`), or the other way round, as far as they go. Returns the agreement
 * with its collateral reduced and what was taken (never more than `amount`).
 */
export function take(state: StateOverlay, a: Agreement, r: PartyRole, to: Uint8Array, amount: bigint, collateralFirst: boolean): [Agreement, bigint] {
  const from = partyAddress(a, r);
  let left = amount;
  let c = collateralOf(a, r);
  const fromCollateral = () => {
    const x = c < left ? c : left;
    move(state, from, to, x, true);
    c -= x;
    left -= x;
  };
  const fromBalance = () => {
    const bal = readAccount(state, from).balance;
    const x = bal < left ? bal : left;
    move(state, from, to, x, false);
    left -= x;
  };
  if (collateralFirst) {
    fromCollateral();
    fromBalance();
  } else {
    fromBalance();
    fromCollateral();
  }
  return [withCollateral(a, r, c), amount - left];
}

/** Returns party `r`'s collateral to its balance. */
export function release(state: StateOverlay, a: Agreement, r: PartyRole): Agreement {
  unlock(state, partyAddress(a, r), collateralOf(a, r));
  return withCall(withCollateral(a, r, 0n), r, 0);
}

/** The collateral level each party keeps: core/agreement.ts collateralLevel of the remaining value. */
export function levelOf(a: Agreement): bigint {
  return collateralLevel(a.remainingValue, a.collateralBps);
}

/**
 * After collateral moved: a party below the level without an open call gets one, due at
 * the block time + MARGIN_CALL_MS (a timer of the hook); a party at or above the level has
 * its call cleared.
 */
export function checkMargins(state: StateOverlay, a: Agreement, nowMs: number, events: BlockEvent[]): Agreement {
  const level = levelOf(a);
  let out = a;
  for (const r of ['buyer', 'seller'] as const) {
    const c = collateralOf(out, r);
    const call = callOf(out, r);
    if (c >= level) {
      if (call !== 0) out = withCall(out, r, 0);
      continue;
    }
    if (call !== 0) continue;
    const due = nowMs + MARGIN_CALL_MS;
    out = withCall(out, r, due);
    putTimer(state, due, out, 'margin', r === 'buyer' ? 0 : 1);
    events.push({
      type: 'agreement-margin-call',
      attributes: [
        ['agreement', toHex(a.id)],
        ['party', addressText(partyAddress(a, r))],
        ['collateral', c.toString()],
        ['level', level.toString()],
        ['deadlineMs', String(due)],
      ],
    });
  }
  return out;
}
