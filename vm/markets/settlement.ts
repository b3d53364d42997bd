import type { BlockEvent } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { encode } from '../../core/codec.ts';
import { mintedUtxoId } from '../../core/energy.ts';
import { sha256 } from '../../core/hash.ts';
import { decodeTrade, imbalanceAccount, overDeliveryShare, TRADE_UTXO_TAG, type Trade } from '../../core/market.ts';
import { settlesAt } from '../../core/meter.ts';
import { closeQueueKey, energyUtxoKey, intervalTotalsKey, MarketBucket } from '../../core/state-keys.ts';
import { deviceAgreementsPrefix, intervalAgreedKey, sharedAgreedWh } from '../../state/agreements.ts';
import { deleteUtxo, getUtxo, putUtxo } from '../../state/energy.ts';
import { accountKey } from '../../state/keys.ts';
import {
  collateralKey,
  escrowKey,
  getHeld,
  getMarket,
  getSettleProgress,
  marketId,
  marketKey,
  putHeld,
  putDeviceTraded,
  putSettlement,
  putSettleProgress,
  intervalDeviceOf,
  resolvedMarkerOf,
  SETTLE_QUEUE_PREFIX,
  SETTLE_RESOLVED_PREFIX,
  settleGroupPrefix,
  settleItemKey,
  settleProgressKey,
  settleResolvedKey,
  type ResolvedMarker,
} from '../../state/markets.ts';
import { firstEntries, firstEntry, headEntries, type StateEntry, type StateOverlay, type StateReader } from '../../state/overlay.ts';
import { getIntervalTotals, hasCloseItem } from '../../state/telemetry.ts';
import { addressText, move, readAccount, unlock } from '../accounts.ts';
import type { BlockContext, EndBlockHook, HookReads, WorkBudget } from '../types.ts';
import { clearedThrough, clearingHeadRanges } from './clearing.ts';

/**
 * Settlement against meters (end-of-block hook `market-settlement`). It runs after the
 * interval close and before the clearing, so it settles only trades queued before the
 * block, whose reads the node declared from that queue (a market whose gate closes when its
 * settlement is already due, because no block was made in between or its clearing ran long,
 * settles from the block after its clearing's). Once a delivery interval's meter data is
 * closed for the seller's device and every market of the interval has cleared (a device
 * that moved zone may sell in two: its trades in both are one group), each of the device's
 * trades of that interval settles, in trade order:
 *
 * - allocation: the device's metered net export in the interval (0 when it sent no data)
 *   is allocated to its trades in trade order, each at most its volume;
 * - delivery: the allocated Wh move as an energy UTXO, with the minted token's provenance,
 *   from the seller's minted token of that interval to the buyer; energy the seller no
 *   longer holds there (moved away before settlement, or a token owned by someone else)
 *   cannot be delivered twice and counts as undelivered;
 * - payment: floor(delivered x P / 1000) from the bid's held escrow to the seller (rounded
 *   down: the buyer never pays for a fraction of a Wh it did not receive; the sum over a
 *   bid's trades never exceeds the ceil(traded x P / 1000) held);
 * - under-delivery: floor(undelivered x P x underDeliveryPenaltyBps / 10^7) from the ask's
 *   collateral, then the seller's balance (as far as they go), to the buyer (rounded down:
 *   a penalty never takes more than the rate);
 * - over-delivery: after a device's last trade of the interval, the trades' share of the
 *   device's over-delivery (core/market.ts overDeliveryShare: the metered export beyond its
 *   trades and its executing agreements' slots, shared by volume, so the agreements that
 *   settle after charge the rest and nothing twice), floor(share x P x
 *   overDeliveryPenaltyBps / 10^7) from the seller's balance (as far as it goes) to the
 *   zone's imbalance account (core/market.ts imbalanceAccount); the Wh the trades sold stay
 *   recorded (deviceTraded) for those agreements;
 * - held money: when an order's last trade settles, what is left of its escrow or
 *   collateral goes back to its owner's balance.
 * Money only moves between balances and locked funds, and Wh only from the minted token
 * to the buyer's: both conserved exactly. An interval frozen by a check-meter disagreement
 * moves its trades aside (bucket settleHeld) until a dso resolves it (tx 27), which marks
 * the (interval, device) resolved (bucket settleResolved); they settle from the next block,
 * found through the marker, which goes once the group has settled; a group the budget had
 * moved aside only in part when it was resolved settles whole (its queued rest moves aside
 * first). The hook never lists the held bucket, so trades frozen and unresolved cost a
 * block nothing. What a block reads is
 * bounded: the queue's first QUEUE_LIMIT entries, the first HELD_MARKER_LIMIT markers, and
 * of each marker's group the trades it may settle (the first up to the budget, the others
 * HELD_GROUP_LIMIT). SETTLEMENT_UNITS.trade per trade settled, SETTLEMENT_UNITS.movedAside per
 * trade moved aside.
 */

export const SETTLEMENT_WORK_PER_BLOCK = 2_000;
/**
 * What a trade draws, by what it writes (vm/types.ts EndBlockHook: a unit is about a
 * transfer's writes): settling one writes about 7 records (payments, the energy UTXOs, the
 * queue entry, the progress and held money as groups and orders finish), moving one aside 2
 * (its queue entry deleted, the held one written). A block may move QUEUE_LIMIT - 1 aside, so
 * the queue's slice stays a unit an entry.
 */
export const SETTLEMENT_UNITS = { trade: 4, movedAside: 1 } as const;
const QUEUE_LIMIT = SETTLEMENT_WORK_PER_BLOCK + 1;
/** Resolution markers a block looks at (the declared slice of the marker bucket). */
export const HELD_MARKER_LIMIT = 64;
/** Held trades a block settles of each due marker's group but the first (which may take the whole budget). */
export const HELD_GROUP_LIMIT = 32;

interface Item {
  readonly key: Uint8Array;
  readonly intervalStartMs: number;
  readonly deviceId: string;
  readonly zone: string;
  readonly trade: Trade;
}

function itemOf([key, value]: StateEntry): Item {
  const dl = key[10]!;
  const zl = key[11 + dl]!;
  return {
    key,
    ...intervalDeviceOf(key),
    zone: Buffer.from(key.subarray(12 + dl, 12 + dl + zl)).toString('latin1'),
    trade: decodeTrade(value),
  };
}

const sameGroup = (a: Item, b: Item): boolean => a.intervalStartMs === b.intervalStartMs && a.deviceId === b.deviceId;

/** Where a group of trades stands: waiting for the close, frozen, or with its metered export. */
type Metered = { readonly kind: 'wait' } | { readonly kind: 'frozen' } | { readonly kind: 'ready'; readonly exportWh: bigint };

function metered(state: StateReader, block: BlockContext, it: Item): Metered {
  if (settlesAt(it.intervalStartMs, block.params) > block.timestamp) return { kind: 'wait' };
  // The close queue is in (interval, device) order like this one: a device still queued means the close has not reached it.
  if (hasCloseItem(state, it.intervalStartMs, it.deviceId)) return { kind: 'wait' };
  if (getMarket(state, it.zone, it.intervalStartMs)?.status !== 'cleared') return { kind: 'wait' };
  // The device's trades in other zones' markets of the interval (it may have moved) settle in the same group, so all of them are queued first.
  if (!clearedThrough(state, it.intervalStartMs)) return { kind: 'wait' };
  const t = getIntervalTotals(state, it.deviceId, it.intervalStartMs);
  if (t?.status === 'frozen') return { kind: 'frozen' };
  // No totals: the device sent no data for the interval (missing data counts as zero delivery).
  return { kind: 'ready', exportWh: t === undefined || t.status === 'open' ? 0n : (t.mintedWh ?? 0n) };
}

/** Takes up to `amount` from the seller: its held collateral first, then its balance. Returns what was taken. */
function takeFromSeller(state: StateOverlay, trade: Trade, to: Uint8Array, amount: bigint, collateral: boolean): bigint {
  let left = amount;
  if (collateral) {
    const ck = collateralKey(trade.askId);
    const c = getHeld(state, ck)!;
    const fromC = c.amount < left ? c.amount : left;
    move(state, trade.seller, to, fromC, true);
    putHeld(state, ck, { ...c, amount: c.amount - fromC });
    left -= fromC;
  }
  const balance = readAccount(state, trade.seller).balance;
  const fromB = balance < left ? balance : left;
  move(state, trade.seller, to, fromB, false);
  return amount - left + fromB;
}

/** One trade of its order done: the last one returns what is left held. */
function closeHeld(state: StateOverlay, key: Uint8Array): void {
  const h = getHeld(state, key)!;
  if (h.open > 1) {
    putHeld(state, key, { ...h, open: h.open - 1 });
    return;
  }
  unlock(state, h.owner, h.amount);
  state.delete(key);
}

export function tradeUtxoId(m: Uint8Array, seq: number): Uint8Array {
  return sha256(encode([TRADE_UTXO_TAG, m, seq]));
}

/** `mintedId`: the group's minted token, mintedUtxoId(device, interval), the same for each of its trades. */
function settleTrade(state: StateOverlay, block: BlockContext, it: Item, mintedId: Uint8Array, allocatedWh: bigint, price: bigint, events: BlockEvent[]): void {
  const { trade } = it;
  const m = marketId(it.zone, it.intervalStartMs);
  const minted = getUtxo(state, mintedId);
  const holds = minted !== undefined && !minted.frozen && equalBytes(minted.owner, trade.seller) ? minted.wh : 0n;
  const delivered = allocatedWh < holds ? allocatedWh : holds;
  let utxoId: Uint8Array | undefined;
  if (delivered > 0n) {
    utxoId = tradeUtxoId(m, trade.seq);
    if (delivered === minted!.wh) deleteUtxo(state, minted!);
    else putUtxo(state, { ...minted!, wh: minted!.wh - delivered });
    putUtxo(state, { id: utxoId, owner: trade.buyer, wh: delivered, provenance: minted!.provenance, frozen: false, height: block.height });
  }
  // Rounded down (see the file comment); never more than the escrow held.
  const payment = (delivered * price) / 1000n;
  const ek = escrowKey(trade.bidId);
  const escrow = getHeld(state, ek)!;
  move(state, trade.buyer, trade.seller, payment, true);
  putHeld(state, ek, { ...escrow, amount: escrow.amount - payment });
  // Rounded down: 5 % of P per undelivered kWh = undelivered x P x bps / (1000 x 10000).
  const penaltyDue = ((trade.volumeWh - delivered) * price * BigInt(block.params.underDeliveryPenaltyBps)) / 10_000_000n;
  const penalty = takeFromSeller(state, trade, trade.buyer, penaltyDue, true);
  closeHeld(state, ek);
  closeHeld(state, collateralKey(trade.askId));
  putSettlement(state, m, trade.seq, { deliveredWh: delivered, payment, penalty, utxoId, height: block.height });
  events.push({
    type: 'trade-settled',
    attributes: [
      ['zone', it.zone],
      ['intervalStartMs', String(it.intervalStartMs)],
      ['seq', String(trade.seq)],
      ['device', it.deviceId],
      ['deliveredWh', delivered.toString()],
      ['payment', payment.toString()],
      ['penalty', penalty.toString()],
      ['utxo', utxoId === undefined ? '' : toHex(utxoId)],
    ],
  });
}

/** The trades' share of the device's over-delivery in the interval (core/market.ts overDeliveryShare), charged at P. */
function overDelivery(state: StateOverlay, block: BlockContext, last: Item, exportWh: bigint, tradedWh: bigint, price: bigint, events: BlockEvent[]): void {
  const agreed = sharedAgreedWh(state, last.deviceId, last.intervalStartMs, block.params.settlementIntervalMs);
  const over = overDeliveryShare(exportWh, tradedWh, agreed, tradedWh);
  if (over === 0n) return;
  // Rounded down, like the under-delivery penalty.
  const due = (over * price * BigInt(block.params.overDeliveryPenaltyBps)) / 10_000_000n;
  const paid = takeFromSeller(state, last.trade, imbalanceAccount(last.zone), due, false);
  events.push({
    type: 'over-delivery',
    attributes: [
      ['device', last.deviceId],
      ['intervalStartMs', String(last.intervalStartMs)],
      ['overWh', over.toString()],
      ['charged', paid.toString()],
      ['account', addressText(imbalanceAccount(last.zone))],
    ],
  });
}

/** Why settling a group stopped before its end: the block's budget, or the group's share of a block's held trades. */
type Stop = 'budget' | 'limit' | undefined;

/**
 * Settles the group starting at `r` (its first entry, `head`), in trade order, at most
 * `max` trades and while the budget lasts; a group stopped part-way keeps its progress
 * (settleProgress) for the next block. Returns the entry after the group and why it stopped.
 */
function settleGroup(
  state: StateOverlay,
  block: BlockContext,
  budget: WorkBudget,
  it: Iterator<StateEntry>,
  r: IteratorResult<StateEntry>,
  head: Item,
  exportWh: bigint,
  max: number,
  events: BlockEvent[],
): { next: IteratorResult<StateEntry>; stop: Stop } {
  const price = getMarket(state, head.zone, head.intervalStartMs)!.price;
  const progress = getSettleProgress(state, head.intervalStartMs, head.deviceId) ?? { allocatedWh: 0n, tradedWh: 0n };
  let { allocatedWh, tradedWh } = progress;
  let last = head;
  let cur = r;
  let n = 0;
  const mintedId = mintedUtxoId(head.deviceId, head.intervalStartMs);
  // The group's markets are cleared (their records, and so their prices, are final): each read once.
  let zone = head.zone;
  let p = price;
  for (;;) {
    if (cur.done === true) break;
    const i = itemOf(cur.value);
    if (!sameGroup(i, head)) break;
    const stop: Stop = n === max ? 'limit' : budget.take(SETTLEMENT_UNITS.trade) ? undefined : 'budget';
    if (stop !== undefined) {
      putSettleProgress(state, head.intervalStartMs, head.deviceId, { allocatedWh, tradedWh });
      return { next: cur, stop };
    }
    if (i.zone !== zone) {
      zone = i.zone;
      p = getMarket(state, i.zone, i.intervalStartMs)!.price;
    }
    // Allocation in trade order: each trade takes what is left of the metered export, up to its volume.
    const left = exportWh - allocatedWh;
    const alloc = left < i.trade.volumeWh ? left : i.trade.volumeWh;
    settleTrade(state, block, i, mintedId, alloc, p, events);
    allocatedWh += alloc;
    tradedWh += i.trade.volumeWh;
    state.delete(i.key);
    last = i;
    n++;
    cur = it.next();
  }
  overDelivery(state, block, last, exportWh, tradedWh, price, events);
  // What the device's agreements of the interval measure their share against (they settle after this).
  putDeviceTraded(state, head.intervalStartMs, head.deviceId, tradedWh);
  state.delete(settleProgressKey(head.intervalStartMs, head.deviceId));
  return { next: cur, stop: undefined };
}

/**
 * Settles the queue's trades in key order while the budget lasts; a group whose data is
 * not ready stops the queue (later groups' closes come after it), a frozen one moves aside
 * (settleHeld). Returns false when the budget ran out.
 */
function settleQueue(state: StateOverlay, block: BlockContext, budget: WorkBudget, events: BlockEvent[]): boolean {
  const it = state.iterate(SETTLE_QUEUE_PREFIX);
  try {
    let r = it.next();
    while (r.done !== true) {
      const head = itemOf(r.value);
      const m = metered(state, block, head);
      if (m.kind === 'wait') return true;
      if (m.kind === 'frozen' || state.get(settleResolvedKey(head.intervalStartMs, head.deviceId)) !== undefined) {
        // Moved aside, one unit each, so the queue behind it goes on. A group resolved while
        // the budget had moved only part of it aside goes after that part: the two settle as
        // one group through the marker, the metered export allocated once, in trade order.
        let cur: IteratorResult<StateEntry> = r;
        for (;;) {
          if (cur.done === true) break;
          const i = itemOf(cur.value);
          if (!sameGroup(i, head)) break;
          if (!budget.take(SETTLEMENT_UNITS.movedAside)) return false;
          state.delete(i.key);
          state.set(settleItemKey(MarketBucket.settleHeld, i.intervalStartMs, i.deviceId, i.zone, i.trade.seq), cur.value[1]);
          cur = it.next();
        }
        r = cur;
        continue;
      }
      const { next, stop } = settleGroup(state, block, budget, it, r, head, m.exportWh, Infinity, events);
      if (stop !== undefined) return false;
      r = next;
    }
    return true;
  } finally {
    it.return?.();
  }
}

/**
 * The resolution markers a block acts on: among the bucket's first HELD_MARKER_LIMIT (the
 * declared slice), those written before this block. A marker this block's txs wrote waits
 * for the next one: the reads it names were declared from the state before the txs.
 */
function dueMarkers(state: StateReader, block: BlockContext): ResolvedMarker[] {
  return firstEntries(state, SETTLE_RESOLVED_PREFIX, HELD_MARKER_LIMIT)
    .map(resolvedMarkerOf)
    .filter((mk) => mk.height < block.height);
}

/** Trades of a due marker's group a block settles: the first due marker's up to the whole budget, the others' a share. */
const heldGroupLimit = (position: number): number => (position === 0 ? SETTLEMENT_WORK_PER_BLOCK : HELD_GROUP_LIMIT);

const heldGroupOf = (mk: ResolvedMarker): Uint8Array => settleGroupPrefix(MarketBucket.settleHeld, mk.intervalStartMs, mk.deviceId);

/** The same (interval, device)'s trades still in the queue: a frozen group the budget split before its resolution. */
const queuedGroupOf = (mk: ResolvedMarker): Uint8Array => settleGroupPrefix(MarketBucket.settleQueue, mk.intervalStartMs, mk.deviceId);

/**
 * Settles the held trades of the resolved intervals the due markers name, as the queue's
 * (SETTLEMENT_UNITS.trade per trade); a marker goes once its group has none left. Returns false when the
 * budget ran out.
 */
function settleResolved(state: StateOverlay, block: BlockContext, budget: WorkBudget, events: BlockEvent[]): boolean {
  for (const [position, mk] of dueMarkers(state, block).entries()) {
    const it = state.iterate(heldGroupOf(mk));
    try {
      const r = it.next();
      if (r.done === true) {
        state.delete(mk.key);
        continue;
      }
      // Part of the group still queued (moved aside by settleQueue, then settled here whole).
      if (firstEntry(state, queuedGroupOf(mk)) !== undefined) continue;
      const head = itemOf(r.value);
      const m = metered(state, block, head);
      // Always ready: the marker's totals are resolved, and the group waited for nothing else before it froze.
      if (m.kind !== 'ready') continue;
      const { stop } = settleGroup(state, block, budget, it, r, head, m.exportWh, heldGroupLimit(position), events);
      if (stop === 'budget') return false;
      if (stop === undefined) state.delete(mk.key);
    } finally {
      it.return?.();
    }
  }
  return true;
}

export function settleTrades(state: StateOverlay, block: BlockContext, budget: WorkBudget): BlockEvent[] {
  const events: BlockEvent[] = [];
  if (settleResolved(state, block, budget, events)) settleQueue(state, block, budget, events);
  return events;
}

function addItemReads(i: Item, keys: Map<string, Uint8Array>, prefixes: Map<string, Uint8Array>): void {
  for (const k of itemReads(i)) keys.set(toHex(k), k);
  const p = deviceAgreementsPrefix(i.deviceId);
  prefixes.set(toHex(p), p);
}

function itemReads(i: Item): Uint8Array[] {
  const { trade } = i;
  return [
    marketKey(i.zone, i.intervalStartMs),
    closeQueueKey(i.intervalStartMs, i.deviceId, false),
    intervalTotalsKey(i.deviceId, i.intervalStartMs),
    energyUtxoKey(mintedUtxoId(i.deviceId, i.intervalStartMs)),
    settleProgressKey(i.intervalStartMs, i.deviceId),
    settleResolvedKey(i.intervalStartMs, i.deviceId),
    intervalAgreedKey(i.intervalStartMs, i.deviceId),
    escrowKey(trade.bidId),
    collateralKey(trade.askId),
    accountKey(trade.buyer),
    accountKey(trade.seller),
    accountKey(imbalanceAccount(i.zone)),
  ];
}

/**
 * What settlement reads: for the queue's first entries whose interval has settled by the
 * block's time, the records their trades name; for each due resolution marker, the head of
 * its held group (settlementNextReads: the records those trades name). The entries and
 * markers are in the state before the block's txs; a marker a tx of the block writes is not
 * due until the next block.
 */
export function settlementDependentReads(declared: StateReader, block: BlockContext): HookReads {
  const keys = new Map<string, Uint8Array>();
  const prefixes = new Map<string, Uint8Array>();
  for (const e of headEntries(declared, SETTLE_QUEUE_PREFIX, QUEUE_LIMIT)) {
    const i = itemOf(e);
    if (settlesAt(i.intervalStartMs, block.params) > block.timestamp) break;
    addItemReads(i, keys, prefixes);
  }
  // One more than a block settles: whether the group goes on.
  const ranges = dueMarkers(declared, block).flatMap((mk, position) => [
    { prefix: heldGroupOf(mk), limit: heldGroupLimit(position) + 1 },
    { prefix: queuedGroupOf(mk), limit: 1 },
  ]);
  return { keys: [...keys.values()], prefixes: [...prefixes.values()], ranges };
}

/** The third stage: the records the trades of the due markers' held groups name, with the groups loaded. */
export function settlementNextReads(declared: StateReader, block: BlockContext): HookReads {
  const keys = new Map<string, Uint8Array>();
  const prefixes = new Map<string, Uint8Array>();
  for (const [position, mk] of dueMarkers(declared, block).entries()) {
    for (const e of firstEntries(declared, heldGroupOf(mk), heldGroupLimit(position) + 1)) addItemReads(itemOf(e), keys, prefixes);
  }
  return { keys: [...keys.values()], prefixes: [...prefixes.values()] };
}

export const marketSettlementHook: EndBlockHook = {
  name: 'market-settlement',
  order: 15,
  workPerBlock: SETTLEMENT_WORK_PER_BLOCK,
  prefixes: () => [],
  ranges: (block) => [
    { prefix: SETTLE_QUEUE_PREFIX, limit: QUEUE_LIMIT },
    { prefix: SETTLE_RESOLVED_PREFIX, limit: HELD_MARKER_LIMIT },
    ...clearingHeadRanges(block),
  ],
  dependent: (block, declared) => settlementDependentReads(declared, block),
  dependentNext: (block, declared) => settlementNextReads(declared, block),
  run: settleTrades,
};
