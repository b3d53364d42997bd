import type { BlockEvent } from '../../core/block.ts';
import { toHex } from '../../core/bytes.ts';
import { INTERVAL_TOTALS_KEPT, metersDisagree, netEnergy, settlesAt, totalsOfOpen, type CheckTotals } from '../../core/meter.ts';
import { CLOSE_QUEUE_PREFIX } from '../../core/state-keys.ts';
import { getDevice, isCheckMeter, putDevice } from '../../state/devices.ts';
import {
  deleteCloseItem,
  deleteIntervalTotals,
  firstQueuedClose,
  getDeviceHealth,
  getIntervalTotals,
  getMeterCursor,
  intervalTotalsOf,
  putCloseItem,
  putDeviceHealth,
  putIntervalTotals,
  putMeterCursor,
  dueQueuedCloses,
  queuedClosesOf,
  type QueuedClose,
} from '../../state/telemetry.ts';
import { mintMeteredInterval } from '../energy/mint.ts';
import type { StateOverlay, StateReader } from '../../state/overlay.ts';
import type { BlockContext, EndBlockHook, HookReads, WorkBudget } from '../types.ts';
import { closeReads } from './access.ts';
import { afterMiss, afterReport } from './missing-data.ts';

/**
 * The interval close (end-of-block hook `interval-close`): every interval whose end plus
 * settlementDelayMs is at or before the block's time is closed, device by device, in
 * ascending (interval start, device id) order: the order of the close queue's keys
 * (state/telemetry.ts). Each entry draws work units by what closing it writes (CLOSE_UNITS);
 * what the budget leaves waits in the queue for the next block, still in that order.
 *
 * A device that reported the interval: its net energy is compared with its check meter's
 * (if the check meter reported it too; more than meterAccuracyPermille apart: frozen),
 * then minted (vm/energy/mint.ts mintMeteredInterval: net export to its owner, storage
 * carbon from net import), unless the device is itself another's check meter (its energy
 * is that device's, measured twice: never minted). Its health resets, and a watch for
 * the next interval is queued. A watched interval without readings counts as missed
 * (vm/telemetry/missing-data.ts). The interval's totals say how it closed; the totals of
 * INTERVAL_TOTALS_KEPT intervals before are deleted (a frozen one waits for its resolution).
 */

/**
 * Work units an entry's close draws, by what it writes (vm/types.ts EndBlockHook: a unit is
 * about a transfer's writes). A reported interval writes about nine (cursor, token and its index,
 * totals, old totals, health, next watch, the entry); a missed one three (health, next
 * watch, the entry); a watch whose device reported, or is no longer active, one (the entry).
 */
export const CLOSE_UNITS = { reported: 4, missed: 2, dropped: 1 } as const;

/**
 * Work units the close draws in a block while it keeps up: about a hundred reporting
 * devices. A close block's work runs three times on the critical path (the proposer's build,
 * each validator's execution, the commit), so a fleet's whole close in one block delayed
 * every reading sent meanwhile by seconds (400 devices: 2.6-2.9 s to the next block on
 * four validators sharing two cores; 4,000: longer than the round timer, so every round
 * executed it again). Spread over blocks, each adds little. A hundred devices a block
 * closes 90,000 in a 15-minute interval of 1 s blocks.
 */
export const CLOSE_WORK_PER_BLOCK = 500;

/**
 * Work units a block draws while the close is behind: the next interval is due as well,
 * so the fleet outgrew CLOSE_WORK_PER_BLOCK for the blocks an interval has. Twice as much
 * a block catches up with a fleet up to twice that size, and each block's close still fits
 * in the round timer.
 */
export const CLOSE_CATCH_UP_WORK_PER_BLOCK = 2 * CLOSE_WORK_PER_BLOCK;

interface Tally {
  closed: number;
  mintedWh: bigint;
  frozen: number;
  missed: number;
}

function closeReported(state: StateOverlay, block: BlockContext, q: QueuedClose, events: BlockEvent[], tally: Tally): void {
  const { params } = block;
  const I = q.intervalStartMs;
  const device = getDevice(state, q.deviceId)!;
  // Still open in the device's cursor (no later reading yet), or written when a later one came.
  const cursor = getMeterCursor(state, q.deviceId);
  const fromCursor = cursor?.open?.intervalStartMs === I;
  const totals = fromCursor ? totalsOfOpen(q.deviceId, cursor!.open!) : getIntervalTotals(state, q.deviceId, I)!;
  if (fromCursor) putMeterCursor(state, q.deviceId, { ...cursor!, open: undefined });
  const net = netEnergy(totals);
  const cm = q.item.checkMeter === undefined ? undefined : intervalTotalsOf(state, q.item.checkMeter, I);
  const check: CheckTotals | undefined =
    cm === undefined || cm.readings === 0 ? undefined : { deviceId: cm.deviceId, readings: cm.readings, importWh: cm.importWh, exportWh: cm.exportWh };
  const measuresAnother = isCheckMeter(state, q.deviceId);
  const frozen = !measuresAnother && check !== undefined && metersDisagree(totals, check, params.meterAccuracyPermille);
  // The energy's provenance: the device's kind and zone when the interval's first reading came.
  const producer = { ...device, kind: q.item.kind ?? device.kind, zone: q.item.zone ?? device.zone };
  const utxoId = measuresAnother
    ? undefined
    : mintMeteredInterval(
        state,
        producer,
        { deviceId: q.deviceId, intervalStartMs: I, intervalEndMs: I + params.settlementIntervalMs, importWh: net.importWh, exportWh: net.exportWh, frozen },
        block.height,
      );
  putIntervalTotals(state, { ...totals, status: frozen ? 'frozen' : 'closed', mintedWh: measuresAnother ? undefined : net.exportWh, utxoId, check });
  putDeviceHealth(state, q.deviceId, afterReport(getDeviceHealth(state, q.deviceId), { intervalStartMs: I, ...net }, frozen));
  putCloseItem(state, I + params.settlementIntervalMs, q.deviceId, { checkMeter: device.checkMeter, reported: false });
  const expired = I - INTERVAL_TOTALS_KEPT * params.settlementIntervalMs;
  // Only a record there is deleted: a blind delete changes no root, yet its path is loaded and walked at every commit.
  const old = expired >= 0 ? getIntervalTotals(state, q.deviceId, expired) : undefined;
  if (old !== undefined && old.status !== 'frozen') deleteIntervalTotals(state, q.deviceId, expired);
  tally.mintedWh += measuresAnother ? 0n : net.exportWh;
  if (frozen) {
    tally.frozen++;
    events.push({
      type: 'interval-frozen',
      attributes: [
        ['device', q.deviceId],
        ['intervalStartMs', String(I)],
        ['netEnergyWh', (totals.importWh - totals.exportWh).toString()],
        ['checkMeter', check!.deviceId],
        ['checkNetEnergyWh', (check!.importWh - check!.exportWh).toString()],
        ['utxo', utxoId === undefined ? '' : toHex(utxoId)],
      ],
    });
  }
}

function closeWatched(state: StateOverlay, block: BlockContext, q: QueuedClose, events: BlockEvent[], tally: Tally): void {
  const { params } = block;
  const device = getDevice(state, q.deviceId)!;
  // A suspended, revoked or flagged device is not missing data: it stops being watched.
  if (device.status !== 'active') return;
  tally.missed++;
  const { health, flag } = afterMiss(getDeviceHealth(state, q.deviceId), q.intervalStartMs, params);
  putDeviceHealth(state, q.deviceId, health);
  if (flag) {
    putDevice(state, { ...device, status: 'flagged-for-inspection' }, device);
    events.push({
      type: 'device-flagged',
      attributes: [
        ['device', q.deviceId],
        ['reason', 'missing-data'],
        ['missedIntervals', String(health.missed)],
      ],
    });
    return;
  }
  // A watch has a key of its own: if the device already reported the next interval, that entry stays.
  putCloseItem(state, q.intervalStartMs + params.settlementIntervalMs, q.deviceId, { checkMeter: device.checkMeter, reported: false });
}

function summary(I: number, t: Tally): BlockEvent {
  return {
    type: 'interval-closed',
    attributes: [
      ['intervalStartMs', String(I)],
      ['devices', String(t.closed)],
      ['mintedWh', t.mintedWh.toString()],
      ['frozen', String(t.frozen)],
      ['missed', String(t.missed)],
    ],
  };
}

/** Whether an interval is closed by `block`: its end plus settlementDelayMs is at or before the block's time. */
const dueBy =
  (block: BlockContext) =>
  (intervalStartMs: number): boolean =>
    settlesAt(intervalStartMs, block.params) <= block.timestamp;

/**
 * The units the close may draw in `block`, judged from the queue's head: a block's txs
 * never add to a settled interval, so the state before them and after give the same answer.
 */
function closeAllowance(state: StateReader, block: BlockContext): number {
  const first = firstQueuedClose(state);
  const behind = first !== undefined && dueBy(block)(first.intervalStartMs + block.params.settlementIntervalMs);
  return behind ? CLOSE_CATCH_UP_WORK_PER_BLOCK : CLOSE_WORK_PER_BLOCK;
}

/**
 * Whether a watch's device did not report its interval. Its reported entry sorts just
 * before and may have been closed by an earlier block (the budget ended between them):
 * the health it left, not the hook's memory, says it reported.
 */
const unreported = (state: StateReader, q: QueuedClose): boolean => getDeviceHealth(state, q.deviceId).lastReportedMs !== q.intervalStartMs;

/** The units closing `q` draws: CLOSE_UNITS by what it will write. */
function unitsOf(state: StateReader, q: QueuedClose): number {
  if (q.item.reported) return CLOSE_UNITS.reported;
  return unreported(state, q) && getDevice(state, q.deviceId)!.status === 'active' ? CLOSE_UNITS.missed : CLOSE_UNITS.dropped;
}

export function closeDueIntervals(state: StateOverlay, block: BlockContext, budget: WorkBudget): BlockEvent[] {
  const events: BlockEvent[] = [];
  let allowed = Math.min(closeAllowance(state, block), budget.remaining);
  // Nothing of an entry is read before its least cost fits: the block loaded no further (closeDependentReads).
  const take = (q: QueuedClose): boolean => {
    const units = allowed < CLOSE_UNITS.dropped ? undefined : unitsOf(state, q);
    if (units === undefined || units > allowed || !budget.take(units)) return false;
    allowed -= units;
    return true;
  };
  for (;;) {
    // A fresh look at the queue for each interval: closing one queues watches for the next.
    const first = firstQueuedClose(state);
    if (first === undefined || !dueBy(block)(first.intervalStartMs)) return events;
    const I = first.intervalStartMs;
    const tally: Tally = { closed: 0, mintedWh: 0n, frozen: 0, missed: 0 };
    for (const q of queuedClosesOf(state, I)) {
      if (!take(q)) {
        events.push(summary(I, tally));
        return events;
      }
      if (q.item.reported) {
        closeReported(state, block, q, events, tally);
        tally.closed++;
      } else if (unreported(state, q)) {
        closeWatched(state, block, q, events, tally);
        tally.closed++;
      }
      deleteCloseItem(state, q);
    }
    events.push(summary(I, tally));
  }
}

/**
 * What the close will read this block, named by the queue's due entries among the first
 * `limit` (vm/telemetry/access.ts closeReads): the hook's dependent access list. The due
 * entries are in the state before the block's txs, which never add to a settled interval.
 * Only as many as the block's allowance can reach: each counted at the least it can draw
 * (a watch at CLOSE_UNITS.dropped), so those it closes are among them.
 */
export function closeDependentReads(declared: StateReader, block: BlockContext, limit: number): HookReads {
  const keys: Uint8Array[] = [];
  const prefixes: Uint8Array[] = [];
  let allowed = closeAllowance(declared, block);
  for (const q of dueQueuedCloses(declared, limit, dueBy(block))) {
    allowed -= q.item.reported ? CLOSE_UNITS.reported : CLOSE_UNITS.dropped;
    if (allowed < 0) break;
    const r = closeReads(q, block.params);
    keys.push(...r.keys);
    prefixes.push(...r.prefixes);
  }
  return { keys, prefixes };
}

/** The close queue's slice a block may take: at most its budget's worth (an entry draws a unit at least), and a peek at one entry more. */
const CLOSE_SLICE = { prefix: CLOSE_QUEUE_PREFIX, limit: CLOSE_CATCH_UP_WORK_PER_BLOCK + 1 };

/**
 * The slice itself, loaded only when the queue's head is due. Most blocks close nothing,
 * and the queue holds a watch or two for every device: loading its first 1,001 entries in
 * every block to find none due cost a LevelDB listing per block that grows with the fleet.
 */
function closeSliceReads(declared: StateReader, block: BlockContext): HookReads {
  const headDue = dueQueuedCloses(declared, 1, dueBy(block)).length > 0;
  return headDue ? { keys: [], prefixes: [], ranges: [CLOSE_SLICE] } : { keys: [], prefixes: [] };
}

export const intervalCloseHook: EndBlockHook = {
  name: 'interval-close',
  order: 10,
  workPerBlock: CLOSE_CATCH_UP_WORK_PER_BLOCK,
  prefixes: () => [],
  // Three stages: the queue's head; if it is due, the slice; then what the slice's due entries name.
  ranges: () => [{ prefix: CLOSE_QUEUE_PREFIX, limit: 1 }],
  dependent: (block, declared) => closeSliceReads(declared, block),
  dependentNext: (block, declared) => closeDependentReads(declared, block, CLOSE_SLICE.limit),
  run: closeDueIntervals,
};
