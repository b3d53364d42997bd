import type { BlockEvent } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import type { Settlement, Trade } from '../../core/market.ts';
import { reversalUtxoId, type Reversal } from '../../core/reversal.ts';
import { deleteUtxo, getUtxo, putUtxo } from '../../state/energy.ts';
import type { StateOverlay, StateReader } from '../../state/overlay.ts';
import { addressText, readAccount, writeAccount } from '../accounts.ts';
import type { BlockContext } from '../types.ts';

/**
 * Executing a reversal: every amount a trade's settlement moved between its parties goes
 * back, or nothing moves (REVERSAL_FUNDS_GONE / REVERSAL_ENERGY_GONE naming what is
 * missing; the approving tx fails and the executor discards its writes):
 *
 * - payment: the seller gives back `payment` (the settlement paid it from the buyer's
 *   escrow) to the buyer's balance; the seller's balance must hold it;
 * - penalty: the buyer gives back `penalty` (the settlement paid it from the seller's
 *   collateral, then balance) to the seller's balance; the buyer's balance must hold it;
 * - energy: the UTXO the settlement gave the buyer (settlement.utxoId, deliveredWh Wh) must
 *   still be the buyer's, whole and unfrozen; it is deleted and the seller receives a UTXO
 *   of the same Wh and provenance, id reversalUtxoId(settlement) (core/reversal.ts).
 *
 * Money goes back to balances, not into escrow or collateral: the settlement that held it
 * is over, and nothing would release it. What did not move between the parties stays: the
 * refund of unused escrow or collateral (locked to balance within one account), and an
 * over-delivery charge (the device's export beyond all its trades of the interval, owed to
 * the zone's imbalance account whatever became of this trade). Each amount is the
 * settlement's own integer: no rounding here.
 */

const gone = (code: ErrorCode, field: string, why: string) => new JouleError(code, why, field);

/** Throws, before any write, when something the settlement moved is no longer there. */
function checkStillThere(state: StateReader, trade: Trade, s: Settlement): void {
  const seller = readAccount(state, trade.seller).balance;
  if (seller < s.payment)
    throw gone(ErrorCode.REVERSAL_FUNDS_GONE, 'settlement.payment', `the seller's balance ${seller} is below the payment ${s.payment} to give back`);
  const buyer = readAccount(state, trade.buyer).balance;
  if (buyer < s.penalty)
    throw gone(ErrorCode.REVERSAL_FUNDS_GONE, 'settlement.penalty', `the buyer's balance ${buyer} is below the penalty ${s.penalty} to give back`);
  if (s.utxoId === undefined) return;
  const u = getUtxo(state, s.utxoId);
  const what = `the buyer's energy UTXO 0x${toHex(s.utxoId)} of ${s.deliveredWh} Wh`;
  if (u === undefined) throw gone(ErrorCode.REVERSAL_ENERGY_GONE, 'settlement.utxo', `${what} is no longer there (transferred or retired)`);
  if (!equalBytes(u.owner, trade.buyer) || u.wh !== s.deliveredWh || u.frozen)
    throw gone(ErrorCode.REVERSAL_ENERGY_GONE, 'settlement.utxo', `${what} is no longer the buyer's, whole and unfrozen`);
}

function addBalance(state: StateOverlay, address: Uint8Array, delta: bigint): void {
  if (delta === 0n) return;
  const a = readAccount(state, address);
  writeAccount(state, address, { ...a, balance: a.balance + delta });
}

/** Moves back what the settlement of `trade` moved; returns the `settlement-reversed` event. */
export function reverseSettlement(state: StateOverlay, block: BlockContext, r: Reversal, trade: Trade, s: Settlement): BlockEvent {
  checkStillThere(state, trade, s);
  addBalance(state, trade.seller, s.penalty - s.payment);
  addBalance(state, trade.buyer, s.payment - s.penalty);
  let returned: Uint8Array | undefined;
  if (s.utxoId !== undefined) {
    const u = getUtxo(state, s.utxoId)!;
    returned = reversalUtxoId(r);
    deleteUtxo(state, u);
    putUtxo(state, { id: returned, owner: trade.seller, wh: u.wh, provenance: u.provenance, frozen: false, height: block.height });
  }
  return {
    type: 'settlement-reversed',
    attributes: [
      ['id', String(r.id)],
      ['zone', r.zone],
      ['intervalStartMs', String(r.intervalStartMs)],
      ['seq', String(r.seq)],
      ['payment', s.payment.toString()],
      ['penalty', s.penalty.toString()],
      ['energyWh', s.deliveredWh.toString()],
      ['utxo', returned === undefined ? '' : toHex(returned)],
      ['approvers', r.approvers.map(addressText).join(',')],
    ],
  };
}
