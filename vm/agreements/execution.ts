import type { BlockEvent } from '../../core/block.ts';
import {
  agreementUtxoId,
  INSURANCE_POOL,
  MAX_EXECUTING_AGREEMENTS_PER_DEVICE,
  referencePrice,
  slotPrice,
  slotStart,
  type Agreement,
  type PartyRole,
} from '../../core/agreement.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { mintedUtxoId } from '../../core/energy.ts';
import { imbalanceAccount, overDeliveryShare } from '../../core/market.ts';
import { settlesAt } from '../../core/meter.ts';
import { closeQueueKey, energyUtxoKey, intervalTotalsKey, MarketBucket, marketKey } from '../../core/state-keys.ts';
import {
  agreementKey,
  countDeviceAgreements,
  deleteDeviceAgreement,
  deviceAgreementsPrefix,
  disputeKey,
  getAgreement,
  getDispute,
  intervalAgreedKey,
  putAgreement,
  putDeviceAgreement,
  putDispute,
  putSlotSettlement,
  putTimer,
  sharedAgreedWh,
  TIMER_PREFIX,
  timerKey,
  timerOf,
  type Timer,
} from '../../state/agreements.ts';
import { deleteUtxo, getUtxo, putUtxo } from '../../state/energy.ts';
import { accountKey } from '../../state/keys.ts';
import { deviceTradedKey, getDeviceTraded, getMarket, settleGroupPrefix } from '../../state/markets.ts';
import { firstEntry, type StateOverlay, type StateReader } from '../../state/overlay.ts';
import { getIntervalTotals, hasCloseItem } from '../../state/telemetry.ts';
import { addressText, move } from '../accounts.ts';
import { clearedThrough, clearingHeadRanges } from '../markets/clearing.ts';
import type { BlockContext, EndBlockHook, HookReads, WorkBudget } from '../types.ts';
import { expireDispute } from './dispute.ts';
import { callOf, checkMargins, collateralOf, levelOf, other, partyAddress, release, take, withCall, withCollateral } from './funds.ts';

/**
 * The agreements' end-of-block hook (`agreement-execution`, order 35: after the interval
 * close, the market settlement and the clearing, so a slot sees its interval's meter data
 * and market price, and market trades take the device's minted token first). It works
 * through a queue of timers (state/agreements.ts), due time first, one work unit each:
 *
 * - start (the first slot's start): a collateralised agreement becomes executing and queues
 *   its first slot, unless its device already delivers MAX_EXECUTING_AGREEMENTS_PER_DEVICE
 *   agreements; that one, and one still proposed or signed, lapses (what collateral it holds
 *   goes back; the event says why).
 * - slot (when the slot's interval settles: its end plus settlementDelayMs), once the close
 *   has reached the device (the same test as market settlement; a frozen interval waits),
 *   every market of the interval has cleared and the device's trades in them have all settled
 *   (until then the timer is queued again for the next block's time, behind what is due):
 *   - delivered = min(quantity, the device's metered export (0 without data), what is left
 *     of the seller's minted token of the interval), moved as an energy UTXO to the buyer;
 *   - price: core/agreement.ts slotPrice (the market formula reads the zone's market for the
 *     interval: its price where it cleared with trades);
 *   - payment floor(delivered x price / 1000), buyer to seller, from the buyer's balance,
 *     then its collateral (rounded down: never pays for a fraction of a Wh);
 *   - under-delivery floor((quantity - delivered) x price x underDeliveryPenaltyBps / 10^7),
 *     seller to buyer; over-delivery: the slot's share of the device's over-delivery
 *     (core/market.ts overDeliveryShare: the metered export beyond the device's trades and
 *     its executing agreements' slots of the interval, shared by volume), floor(share x
 *     price x overDeliveryPenaltyBps / 10^7), seller to the zone's imbalance account; both from the
 *     seller's collateral, then its balance (rounded down, as market settlement);
 *   - the remaining value drops by the slot's; a party whose collateral is now below the
 *     level gets a margin call (vm/agreements/funds.ts checkMargins);
 *   - after the last slot the agreement is settled and both collaterals go back.
 * - margin (a call's deadline): if the call is still open and the party's collateral is
 *   still below the level, the agreement is liquidated: that party's collateral goes to the
 *   insurance pool (core/agreement.ts INSURANCE_POOL), the other's back to it, no more slots.
 * - dispute (DISPUTE_DECISION_MS after a dispute opened): one still undecided ends without
 *   a fee, frozen amount and deposit back (vm/agreements/dispute.ts expireDispute).
 *
 * Every timer is queued for a time after the block that queues it (txs queue only the
 * start, at the first slot's start, and margin and dispute timers, all after their block
 * time), so the due entries
 * a block sees are in the state before its txs: what `dependent` declares.
 */

export const AGREEMENT_WORK_PER_BLOCK = 500;
const QUEUE_LIMIT = AGREEMENT_WORK_PER_BLOCK + 1;

const active = (a: Agreement) => a.phase === 'executing' || a.phase === 'disputed';

/** Sets the phase, or where a dispute is open, the phase it resumes. */
function withPhase(state: StateOverlay, a: Agreement, phase: Agreement['phase']): Agreement {
  if (a.phase !== 'disputed') return { ...a, phase };
  const d = getDispute(state, a.id)!;
  putDispute(state, a.id, { ...d, resume: phase });
  return a;
}

/** Both parties' collateral back to their balances. */
const releaseBoth = (state: StateOverlay, a: Agreement): Agreement => release(state, release(state, a, 'buyer'), 'seller');

/** An agreement that never starts: what collateral it holds goes back, and the event says why. */
function lapse(state: StateOverlay, a: Agreement, reason: 'not-collateralised' | 'device-busy', events: BlockEvent[]): void {
  putAgreement(state, { ...releaseBoth(state, a), phase: 'lapsed' });
  events.push({
    type: 'agreement-lapsed',
    attributes: [
      ['agreement', toHex(a.id)],
      ['reason', reason],
    ],
  });
}

function start(state: StateOverlay, block: BlockContext, a: Agreement, events: BlockEvent[]): void {
  if (a.phase === 'proposed' || a.phase === 'signed') lapse(state, a, 'not-collateralised', events);
  if (a.phase !== 'collateralised') return;
  if (countDeviceAgreements(state, a.deviceId, MAX_EXECUTING_AGREEMENTS_PER_DEVICE) >= MAX_EXECUTING_AGREEMENTS_PER_DEVICE) {
    lapse(state, a, 'device-busy', events);
    return;
  }
  const I = a.firstSlotMs;
  putAgreement(state, { ...a, phase: 'executing' });
  putDeviceAgreement(state, a);
  putTimer(state, settlesAt(I, block.params), a, 'slot', 0, I);
  events.push({ type: 'agreement-executing', attributes: [['agreement', toHex(a.id)]] });
}

/** The device's metered export in the interval, or undefined while the close has not reached it or it is frozen. */
function meteredExport(state: StateReader, a: Agreement, I: number): bigint | undefined {
  if (hasCloseItem(state, I, a.deviceId)) return undefined;
  const t = getIntervalTotals(state, a.deviceId, I);
  if (t?.status === 'frozen') return undefined;
  return t === undefined || t.status === 'open' ? 0n : (t.mintedWh ?? 0n);
}

/** Whether the device's market trades of the interval are still to settle (queued, or held by a frozen interval). */
function tradesPending(state: StateReader, deviceId: string, I: number): boolean {
  return [MarketBucket.settleQueue, MarketBucket.settleHeld].some((bucket) => firstEntry(state, settleGroupPrefix(bucket, I, deviceId)) !== undefined);
}

/**
 * Returns false when the slot must wait: the close has not reached the device, its interval
 * is frozen, the markets of the interval have not all cleared (their trades are not all
 * queued yet), or the device's market trades of the interval have not all settled (they
 * take the minted token first, and leave what they sold for the over-delivery share).
 */
function settleSlot(state: StateOverlay, block: BlockContext, a0: Agreement, slot: number, events: BlockEvent[]): boolean {
  const { params } = block;
  const I = slotStart(a0, slot, params.settlementIntervalMs);
  const metered = meteredExport(state, a0, I);
  if (metered === undefined || !clearedThrough(state, I) || tradesPending(state, a0.deviceId, I)) return false;
  let a = a0;
  const minted = getUtxo(state, mintedUtxoId(a.deviceId, I));
  const holds = minted !== undefined && !minted.frozen && equalBytes(minted.owner, a.seller) ? minted.wh : 0n;
  let delivered = a.quantityWh < metered ? a.quantityWh : metered;
  if (holds < delivered) delivered = holds;
  let utxoId: Uint8Array | undefined;
  if (delivered > 0n) {
    utxoId = agreementUtxoId(a.id, slot);
    if (delivered === minted!.wh) deleteUtxo(state, minted!);
    else putUtxo(state, { ...minted!, wh: minted!.wh - delivered });
    putUtxo(state, { id: utxoId, owner: a.buyer, wh: delivered, provenance: minted!.provenance, frozen: false, height: block.height });
  }
  const market = getMarket(state, a.zone, I);
  const price = slotPrice(a.price, I, market?.status === 'cleared' && market.volumeWh > 0n ? market.price : undefined);
  // Rounded down: the buyer never pays for a fraction of a Wh it did not receive.
  const [afterPayment, payment] = take(state, a, 'buyer', a.seller, (delivered * price) / 1000n, false);
  // Rounded down: 5 % of the price per undelivered kWh = undelivered x price x bps / (1000 x 10^4).
  const underDue = ((a.quantityWh - delivered) * price * BigInt(params.underDeliveryPenaltyBps)) / 10_000_000n;
  const [afterPenalty, penalty] = take(state, afterPayment, 'seller', a.buyer, underDue, true);
  // This slot's share of the device's over-delivery: the market trades and the other agreements of the interval charge the rest.
  const traded = getDeviceTraded(state, I, a.deviceId);
  const over = overDeliveryShare(metered, traded, sharedAgreedWh(state, a.deviceId, I, params.settlementIntervalMs), a.quantityWh);
  const overDue = (over * price * BigInt(params.overDeliveryPenaltyBps)) / 10_000_000n;
  const [afterOver, overCharge] = take(state, afterPenalty, 'seller', imbalanceAccount(a.zone), overDue, true);
  a = afterOver;
  a = {
    ...a,
    nextSlot: slot + 1,
    remainingValue: a.remainingValue - a.quantityWh * referencePrice(a.price, I),
    deliveredWh: a.deliveredWh + delivered,
    paid: a.paid + payment,
  };
  putSlotSettlement(state, a.id, { slot, meteredWh: metered, deliveredWh: delivered, price, payment, penalty, overCharge, utxoId, height: block.height });
  events.push({
    type: 'agreement-slot-settled',
    attributes: [
      ['agreement', toHex(a.id)],
      ['slot', String(slot)],
      ['intervalStartMs', String(I)],
      ['deliveredWh', delivered.toString()],
      ['price', price.toString()],
      ['payment', payment.toString()],
      ['penalty', penalty.toString()],
      ['overCharge', overCharge.toString()],
    ],
  });
  if (a.nextSlot === a.slots) {
    deleteDeviceAgreement(state, a);
    a = withPhase(state, { ...releaseBoth(state, a), settledAtMs: block.timestamp }, 'settled');
    events.push({
      type: 'agreement-settled',
      attributes: [
        ['agreement', toHex(a.id)],
        ['deliveredWh', a.deliveredWh.toString()],
        ['paid', a.paid.toString()],
      ],
    });
  } else {
    const next = slotStart(a, a.nextSlot, params.settlementIntervalMs);
    putTimer(state, settlesAt(next, params), a, 'slot', a.nextSlot, next);
    a = checkMargins(state, a, block.timestamp, events);
  }
  putAgreement(state, a);
  return true;
}

function liquidate(state: StateOverlay, block: BlockContext, a: Agreement, r: PartyRole, events: BlockEvent[]): void {
  const forfeited = collateralOf(a, r);
  move(state, partyAddress(a, r), INSURANCE_POOL, forfeited, true);
  let out = release(state, withCall(withCollateral(a, r, 0n), r, 0), other(r));
  const next = slotStart(out, out.nextSlot, block.params.settlementIntervalMs);
  // A slot queued again while it waited is not under this key: when due, it finds the agreement no longer executing and goes.
  state.delete(timerKey(settlesAt(next, block.params), out.id, 'slot', out.nextSlot));
  deleteDeviceAgreement(state, out);
  out = { ...out, phase: 'liquidated' };
  putAgreement(state, out);
  events.push({
    type: 'agreement-liquidated',
    attributes: [
      ['agreement', toHex(a.id)],
      ['party', addressText(partyAddress(a, r))],
      ['forfeited', forfeited.toString()],
      ['pool', addressText(INSURANCE_POOL)],
    ],
  });
}

function margin(state: StateOverlay, block: BlockContext, a: Agreement, t: Timer, events: BlockEvent[]): void {
  const r: PartyRole = t.slot === 0 ? 'buyer' : 'seller';
  if (!active(a) || callOf(a, r) !== t.dueMs) return;
  if (collateralOf(a, r) >= levelOf(a)) putAgreement(state, withCall(a, r, 0));
  else liquidate(state, block, a, r, events);
}

/** Due timers in the state before the block's txs, at most the budget's worth (timers this run queues wait for the next block). */
function dueTimers(state: StateReader, block: BlockContext, limit: number): Timer[] {
  const out: Timer[] = [];
  for (const e of state.iterate(TIMER_PREFIX)) {
    if (out.length >= limit) break;
    const t = timerOf(e);
    if (t.dueMs > block.timestamp) break;
    out.push(t);
  }
  return out;
}

export function runAgreements(state: StateOverlay, block: BlockContext, budget: WorkBudget): BlockEvent[] {
  const events: BlockEvent[] = [];
  for (const t of dueTimers(state, block, budget.remaining)) {
    if (!budget.take()) break;
    const a = getAgreement(state, t.id);
    if (a !== undefined) {
      if (t.kind === 'start') start(state, block, a, events);
      else if (t.kind === 'margin') margin(state, block, a, t, events);
      else if (t.kind === 'dispute') expireDispute(state, a, block.timestamp, events);
      else if (active(a) && a.nextSlot === t.slot && !settleSlot(state, block, a, t.slot, events)) {
        // Waits behind what is due, not in front of it: queued again for the next block's
        // time, so slots waiting on a frozen interval (a dso's decision away) never hold back
        // the starts, slots and margin calls due after them.
        state.delete(t.key);
        putTimer(state, block.timestamp + block.params.blockPeriodMs, a, 'slot', t.slot, t.refs.intervalStartMs);
        continue;
      }
    }
    state.delete(t.key);
  }
  return events;
}

function timerReads(t: Timer): HookReads {
  const { refs } = t;
  const keys = [agreementKey(t.id), disputeKey(t.id), accountKey(refs.buyer), accountKey(refs.seller), accountKey(INSURANCE_POOL)];
  if (t.kind === 'start') return { keys, prefixes: [deviceAgreementsPrefix(refs.deviceId)] };
  if (t.kind !== 'slot') return { keys, prefixes: [] };
  const I = refs.intervalStartMs;
  return {
    keys: [
      ...keys,
      accountKey(imbalanceAccount(refs.zone)),
      closeQueueKey(I, refs.deviceId, false),
      intervalTotalsKey(refs.deviceId, I),
      energyUtxoKey(mintedUtxoId(refs.deviceId, I)),
      marketKey(refs.zone, I),
      deviceTradedKey(I, refs.deviceId),
      intervalAgreedKey(I, refs.deviceId),
    ],
    prefixes: [
      deviceAgreementsPrefix(refs.deviceId),
      settleGroupPrefix(MarketBucket.settleQueue, I, refs.deviceId),
      settleGroupPrefix(MarketBucket.settleHeld, I, refs.deviceId),
    ],
  };
}

/** What the hook reads: the records its due timers name (the timers are in the state before the block's txs). */
export function agreementDependentReads(declared: StateReader, block: BlockContext): HookReads {
  const reads = dueTimers(declared, block, AGREEMENT_WORK_PER_BLOCK).map(timerReads);
  return { keys: reads.flatMap((r) => r.keys), prefixes: reads.flatMap((r) => r.prefixes) };
}

export const agreementExecutionHook: EndBlockHook = {
  name: 'agreement-execution',
  order: 35,
  workPerBlock: AGREEMENT_WORK_PER_BLOCK,
  prefixes: () => [],
  // Past the budget's worth, the timers the block's txs may delete: an agreement withdrawn
  // in its cooling-off deletes its start timer, and a block of withdrawals of the earliest
  // ones must not make the hook peek past what was loaded (vm/staged-limits.test.ts).
  ranges: (block) => [{ prefix: TIMER_PREFIX, limit: QUEUE_LIMIT + block.params.maxBlockTxs }, ...clearingHeadRanges(block)],
  dependent: (block, declared) => agreementDependentReads(declared, block),
  run: runAgreements,
};
