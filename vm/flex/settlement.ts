import type { BlockEvent } from '../../core/block.ts';
import { toHex } from '../../core/bytes.ts';
import {
  activationTargetWh,
  FLEX_BASELINE_INTERVALS,
  flexPayment,
  flexPenalty,
  floorDiv,
  type FlexActivation,
  type FlexIntervalResult,
} from '../../core/flex.ts';
import { settlesAt } from '../../core/meter.ts';
import { closeQueueKey, commandKey, intervalTotalsKey } from '../../core/state-keys.ts';
import { getAnchoredCommand } from '../../state/commands.ts';
import {
  deleteQueueEntry,
  FLEX_QUEUE_PREFIX,
  flexActivationKey,
  getFlexActivation,
  putCommandPayment,
  putFlexActivation,
  putFlexIntervalResult,
  putQueueEntry,
  queueEntryOf,
  type QueueEntry,
} from '../../state/flex.ts';
import { accountKey } from '../../state/keys.ts';
import type { StateOverlay, StateReader } from '../../state/overlay.ts';
import { getIntervalTotals, hasCloseItem } from '../../state/telemetry.ts';
import { addressText, move, readAccount, unlock } from '../accounts.ts';
import type { BlockContext, EndBlockHook, HookReads, WorkBudget } from '../types.ts';
import { queueCommandInterval } from './priced-command.ts';

/**
 * Flexibility settlement (end-of-block hook `flex-settlement`, after the interval close):
 * works through the queue of state/flex.ts in due order, entries due by the block's time:
 *
 * - deadline (an activation's confirmation window has passed): still pending, it lapses:
 *   status `lapsed`, the dso's escrow back to its balance, event `flex-lapsed`; confirmed,
 *   its first interval is queued for when that interval settles.
 * - interval (one interval I of a confirmed activation, once every fleet device's meter
 *   data for I is closed): the fleet's metered net export M (per device export minus
 *   import as its own meter counted it; no data counts 0; a check-meter freeze concerns the
 *   energy tokens and does not hold flexibility up). At the first interval the baseline B is
 *   fixed: the mean of the fleet's net export over the FLEX_BASELINE_INTERVALS intervals
 *   before the window, over those of them in which any fleet device has meter data, rounded
 *   down (floor); with none of them, B = 0 (a fleet that never metered before has shifted
 *   all it meters). Delivered D = min(max(M - B, 0), target) with target = floor(powerKw x
 *   intervalMs / 3600) Wh; the dso's escrow pays floor(D x price / 10^6) to the aggregator;
 *   the shortfall target - D costs the aggregator floor(shortfall x price x
 *   underDeliveryPenaltyBps / 10^10), paid to the dso from its balance as far as it goes.
 *   The last interval returns what is left of the escrow and the activation is `settled`.
 * - command (one interval of a priced command-anchor, ./priced-command.ts): per target
 *   device, its metered net export in I (0 if it imported or sent no data), up to the
 *   commanded limit over the part of I inside the window, floor(power W x overlap µs /
 *   3.6 x 10^9) Wh, costs floor(Wh x price per kWh / 1000), paid by the issuer to the
 *   device's owner from its balance as far as it goes (there is no escrow behind a command).
 * Money moves only between balances and the dso's locked escrow: conserved exactly. One
 * work unit per deadline, one per fleet or target device of an interval. What the budget
 * leaves waits in the queue.
 */

export const FLEX_WORK_PER_BLOCK = 1_000;
const QUEUE_LIMIT = FLEX_WORK_PER_BLOCK + 1;

/**
 * The queue's entries due by `timestamp`, at most FLEX_WORK_PER_BLOCK of them (each costs
 * a unit at least): what the hook may process this block. Reads one entry more at most.
 */
function dueEntries(state: StateReader, timestamp: number): QueueEntry[] {
  const out: QueueEntry[] = [];
  for (const e of state.iterate(FLEX_QUEUE_PREFIX)) {
    if (out.length >= FLEX_WORK_PER_BLOCK) break;
    const q = queueEntryOf(e);
    if (q.dueMs > timestamp) break;
    out.push(q);
  }
  return out;
}

/** A device's net export in an interval, Wh, as its own meter counted it (export minus import); 0 without data. */
function netExportWh(state: StateReader, deviceId: string, intervalStartMs: number): bigint | undefined {
  const t = getIntervalTotals(state, deviceId, intervalStartMs);
  return t === undefined ? undefined : t.exportWh - t.importWh;
}

/** Every device's meter data for the interval is closed (none still waits on the close queue). */
function closed(state: StateReader, e: QueueEntry): boolean {
  return e.deviceIds.every((d) => !hasCloseItem(state, e.intervalStartMs, d));
}

/** Moves up to `amount` of `from`'s balance to `to`; returns what moved. */
function moveAsFarAsItGoes(state: StateOverlay, from: Uint8Array, to: Uint8Array, amount: bigint): bigint {
  const balance = readAccount(state, from).balance;
  const paid = balance < amount ? balance : amount;
  move(state, from, to, paid, false);
  return paid;
}

function lapseOrStart(state: StateOverlay, block: BlockContext, e: QueueEntry, events: BlockEvent[]): void {
  const a = getFlexActivation(state, e.id)!;
  if (a.status === 'pending') {
    unlock(state, a.dso, a.escrow);
    putFlexActivation(state, e.id, { ...a, status: 'lapsed', escrow: 0n });
    events.push({
      type: 'flex-lapsed',
      attributes: [
        ['activation', toHex(e.id)],
        ['aggregator', addressText(a.aggregator)],
        ['refunded', a.escrow.toString()],
      ],
    });
    return;
  }
  if (a.status === 'confirmed') putQueueEntry(state, { ...e, kind: 'interval', dueMs: settlesAt(a.startMs, block.params) });
}

/** The fleet's baseline: floor of the mean net export over the intervals before the window that have meter data. */
function baseline(state: StateReader, e: QueueEntry, startMs: number, iv: number): { wh: bigint; intervals: number } {
  let sum = 0n;
  let intervals = 0;
  for (let k = 1; k <= FLEX_BASELINE_INTERVALS; k++) {
    const J = startMs - k * iv;
    if (J < 0) break;
    let metered = false;
    for (const d of e.deviceIds) {
      const net = netExportWh(state, d, J);
      if (net === undefined) continue;
      metered = true;
      sum += net;
    }
    if (metered) intervals++;
  }
  return intervals === 0 ? { wh: 0n, intervals } : { wh: floorDiv(sum, BigInt(intervals)), intervals };
}

function settleInterval(state: StateOverlay, block: BlockContext, e: QueueEntry, events: BlockEvent[]): void {
  const iv = block.params.settlementIntervalMs;
  let a: FlexActivation = getFlexActivation(state, e.id)!;
  if (a.status !== 'confirmed') return;
  if (a.baselineWh === undefined) {
    const b = baseline(state, e, a.startMs, iv);
    a = { ...a, baselineWh: b.wh, baselineIntervals: b.intervals };
  }
  const B = a.baselineWh!;
  let M = 0n;
  for (const d of e.deviceIds) M += netExportWh(state, d, e.intervalStartMs) ?? 0n;
  // The power the fleet can have reached by then, at the bid's ramp-up rate.
  const target = activationTargetWh(a, e.intervalStartMs, iv);
  const shifted = M - B;
  const delivered = shifted <= 0n ? 0n : shifted < target ? shifted : target;
  // Rounded down (core/flex.ts flexPayment): never more than the escrow, which was rounded up over every interval's target.
  const payment = flexPayment(delivered, a.pricePerMwh);
  move(state, a.dso, a.aggregator, payment, true);
  // Rounded down: a penalty never takes more than the rate.
  const penaltyDue = flexPenalty(target - delivered, a.pricePerMwh, block.params.underDeliveryPenaltyBps);
  const penalty = moveAsFarAsItGoes(state, a.aggregator, a.dso, penaltyDue);
  const r: FlexIntervalResult = { meteredWh: M, baselineWh: B, targetWh: target, deliveredWh: delivered, payment, penaltyDue, penalty, height: block.height };
  putFlexIntervalResult(state, e.id, e.intervalStartMs, r);
  const next = e.intervalStartMs + iv;
  const last = next >= a.endMs;
  const escrow = a.escrow - payment;
  if (last) unlock(state, a.dso, escrow);
  putFlexActivation(state, e.id, {
    ...a,
    escrow: last ? 0n : escrow,
    status: last ? 'settled' : 'confirmed',
    settledIntervals: a.settledIntervals + 1,
    deliveredWh: a.deliveredWh + delivered,
    paid: a.paid + payment,
    penalty: a.penalty + penalty,
  });
  if (!last) putQueueEntry(state, { ...e, intervalStartMs: next, dueMs: settlesAt(next, block.params) });
  events.push({
    type: 'flex-interval-settled',
    attributes: [
      ['activation', toHex(e.id)],
      ['intervalStartMs', String(e.intervalStartMs)],
      ['meteredWh', M.toString()],
      ['baselineWh', B.toString()],
      ['targetWh', target.toString()],
      ['deliveredWh', delivered.toString()],
      ['payment', payment.toString()],
      ['penalty', penalty.toString()],
      ...(last ? ([['refunded', escrow.toString()]] as [string, string][]) : []),
    ],
  });
}

function settleCommand(state: StateOverlay, block: BlockContext, e: QueueEntry, events: BlockEvent[]): void {
  const c = getAnchoredCommand(state, e.id)!;
  const iv = block.params.settlementIntervalMs;
  const I = e.intervalStartMs;
  const fromUs = BigInt(I) * 1000n > c.validFromUs ? BigInt(I) * 1000n : c.validFromUs;
  const untilUs = BigInt(I + iv) * 1000n < c.validUntilUs ? BigInt(I + iv) * 1000n : c.validUntilUs;
  // Rounded down: W x µs / 3.6e9 = Wh.
  const limitWh = untilUs > fromUs ? (BigInt(c.powerLimitW) * (untilUs - fromUs)) / 3_600_000_000n : 0n;
  let total = 0n;
  e.deviceIds.forEach((d, i) => {
    const net = netExportWh(state, d, I) ?? 0n;
    const exportWh = net > 0n ? net : 0n;
    const paidWh = exportWh < limitWh ? exportWh : limitWh;
    // Rounded down, like a trade's payment: Wh x micro-units per kWh / 1000.
    const due = (paidWh * c.priceMicroPerKwh) / 1000n;
    const owner = e.owners[i]!;
    const paid = moveAsFarAsItGoes(state, e.payer, owner, due);
    total += paid;
    putCommandPayment(state, e.id, I, d, { owner, exportWh, limitWh, due, paid, height: block.height });
  });
  const next = I + iv;
  if (BigInt(next) * 1000n < c.validUntilUs)
    queueCommandInterval(state, e.id, { issuer: e.payer, deviceIds: e.deviceIds }, e.owners, next, block.params, block.timestamp);
  events.push({
    type: 'command-interval-settled',
    attributes: [
      ['commandHash', toHex(e.id)],
      ['intervalStartMs', String(I)],
      ['limitWh', limitWh.toString()],
      ['paid', total.toString()],
    ],
  });
}

export function settleFlex(state: StateOverlay, block: BlockContext, budget: WorkBudget): BlockEvent[] {
  const events: BlockEvent[] = [];
  // A snapshot: what this block queues (even due at once) waits for the next, whose reads will name it.
  for (const e of dueEntries(state, block.timestamp)) {
    if (e.kind !== 'deadline' && !closed(state, e)) continue;
    if (!budget.take(e.kind === 'deadline' ? 1 : Math.max(1, e.deviceIds.length))) break;
    deleteQueueEntry(state, e);
    if (e.kind === 'deadline') lapseOrStart(state, block, e, events);
    else if (e.kind === 'interval') settleInterval(state, block, e, events);
    else settleCommand(state, block, e, events);
  }
  return events;
}

function entryReads(e: QueueEntry, iv: number): Uint8Array[] {
  const keys = [accountKey(e.payer)];
  if (e.kind !== 'command') keys.push(flexActivationKey(e.id));
  if (e.payee !== undefined) keys.push(accountKey(e.payee));
  if (e.kind === 'deadline') return keys;
  if (e.kind === 'command') keys.push(commandKey(e.id), ...e.owners.map(accountKey));
  for (const d of e.deviceIds) {
    keys.push(closeQueueKey(e.intervalStartMs, d, false), intervalTotalsKey(d, e.intervalStartMs));
    // The baseline intervals (read at an activation's first interval only; the entry does not say which that is).
    if (e.kind === 'interval')
      for (let k = 1; k <= FLEX_BASELINE_INTERVALS && e.intervalStartMs - k * iv >= 0; k++) keys.push(intervalTotalsKey(d, e.intervalStartMs - k * iv));
  }
  return keys;
}

/** What the hook reads this block: the records its due entries name (entries no tx of the block can make due). */
export function flexDependentReads(declared: StateReader, block: BlockContext): HookReads {
  const keys = new Map<string, Uint8Array>();
  for (const e of dueEntries(declared, block.timestamp)) for (const k of entryReads(e, block.params.settlementIntervalMs)) keys.set(toHex(k), k);
  return { keys: [...keys.values()], prefixes: [] };
}

export const flexSettlementHook: EndBlockHook = {
  name: 'flex-settlement',
  order: 40,
  workPerBlock: FLEX_WORK_PER_BLOCK,
  prefixes: () => [],
  ranges: () => [{ prefix: FLEX_QUEUE_PREFIX, limit: QUEUE_LIMIT }],
  dependent: (block, declared) => flexDependentReads(declared, block),
  run: settleFlex,
};
