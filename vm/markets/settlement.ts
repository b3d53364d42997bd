import type { BlockEvent } from '../../core/block.ts';
import { equalBytes, readU64be, toHex } from '../../core/bytes.ts';
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
  SETTLE_HELD_PREFIX,
  SETTLE_QUEUE_PREFIX,
  settleItemKey,
  settleProgressKey,
} from '../../state/markets.ts';
import type { StateEntry, StateOverlay, StateReader } from '../../state/overlay.ts';
import { getIntervalTotals, hasCloseItem } from '../../state/telemetry.ts';
import { addressText, readAccount, writeAccount } from '../accounts.ts';
import type { BlockContext, EndBlockHook, HookReads, WorkBudget } from '../types.ts';
import { clearedThrough, clearingHeadRanges } from './clearing.ts';

/**
 * Settlement against meters (end-of-block hook `market-settlement`, after the interval
 * close and the clearing): once a delivery interval's meter data is closed for the seller's
 * device and every market of the interval has cleared (a device that moved zone may sell in
 * two: its trades in both are one group), each of the device's trades of that interval
 * settles, in trade order:
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
 * moves its trades aside (bucket settleHeld) until a dso resolves it; they settle then.
 * One work unit per trade (and per trade moved aside).
 */

export const SETTLEMENT_WORK_PER_BLOCK = 2_000;
const QUEUE_LIMIT = SETTLEMENT_WORK_PER_BLOCK + 1;

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
    intervalStartMs: readU64be(key, 2),
    deviceId: Buffer.from(key.subarray(11, 11 + dl)).toString('latin1'),
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

function move(state: StateOverlay, from: Uint8Array, to: Uint8Array, amount: bigint, fromLocked: boolean): void {
  if (amount === 0n) return;
  const a = readAccount(state, from);
  writeAccount(state, from, fromLocked ? { ...a, locked: a.locked - amount } : { ...a, balance: a.balance - amount });
  const b = readAccount(state, to);
  writeAccount(state, to, { ...b, balance: b.balance + amount });
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
  if (h.amount > 0n) {
    const a = readAccount(state, h.owner);
    writeAccount(state, h.owner, { ...a, balance: a.balance + h.amount, locked: a.locked - h.amount });
  }
  state.delete(key);
}

export function tradeUtxoId(m: Uint8Array, seq: number): Uint8Array {
  return sha256(encode([TRADE_UTXO_TAG, m, seq]));
}

function settleTrade(state: StateOverlay, block: BlockContext, it: Item, allocatedWh: bigint, price: bigint, events: BlockEvent[]): void {
  const { trade } = it;
  const m = marketId(it.zone, it.intervalStartMs);
  const minted = getUtxo(state, mintedUtxoId(it.deviceId, it.intervalStartMs));
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

/**
 * Settles the trades of `bucket` in key order while the budget lasts; a group whose data
 * is not ready stops the queue (later groups' closes come after it), except in the held
 * bucket, where a group still frozen is skipped. Returns false when the budget ran out.
 */
function settleBucket(state: StateOverlay, block: BlockContext, budget: WorkBudget, bucket: Uint8Array, events: BlockEvent[]): boolean {
  const held = bucket === SETTLE_HELD_PREFIX;
  const it = state.iterate(bucket);
  try {
    let r = it.next();
    while (r.done !== true) {
      const head = itemOf(r.value);
      const m = metered(state, block, head);
      if (m.kind === 'wait') {
        if (!held) return true;
        r = skipGroup(it, head);
        continue;
      }
      if (m.kind === 'frozen') {
        if (held) {
          r = skipGroup(it, head);
          continue;
        }
        // Moved aside, one unit each, so the queue behind it goes on.
        let cur: IteratorResult<StateEntry> = r;
        while (cur.done !== true && sameGroup(itemOf(cur.value), head)) {
          if (!budget.take()) return false;
          const i = itemOf(cur.value);
          state.delete(i.key);
          state.set(settleItemKey(MarketBucket.settleHeld, i.intervalStartMs, i.deviceId, i.zone, i.trade.seq), cur.value[1]);
          cur = it.next();
        }
        r = cur;
        continue;
      }
      const price = getMarket(state, head.zone, head.intervalStartMs)!.price;
      const progress = getSettleProgress(state, head.intervalStartMs, head.deviceId) ?? { allocatedWh: 0n, tradedWh: 0n };
      let { allocatedWh, tradedWh } = progress;
      let last = head;
      let cur: IteratorResult<StateEntry> = r;
      while (cur.done !== true && sameGroup(itemOf(cur.value), head)) {
        if (!budget.take()) {
          putSettleProgress(state, head.intervalStartMs, head.deviceId, { allocatedWh, tradedWh });
          return false;
        }
        const i = itemOf(cur.value);
        const p = getMarket(state, i.zone, i.intervalStartMs)!.price;
        // Allocation in trade order: each trade takes what is left of the metered export, up to its volume.
        const left = m.exportWh - allocatedWh;
        const alloc = left < i.trade.volumeWh ? left : i.trade.volumeWh;
        settleTrade(state, block, i, alloc, p, events);
        allocatedWh += alloc;
        tradedWh += i.trade.volumeWh;
        state.delete(i.key);
        last = i;
        cur = it.next();
      }
      overDelivery(state, block, last, m.exportWh, tradedWh, price, events);
      // What the device's agreements of the interval measure their share against (they settle after this).
      putDeviceTraded(state, head.intervalStartMs, head.deviceId, tradedWh);
      state.delete(settleProgressKey(head.intervalStartMs, head.deviceId));
      r = cur;
    }
    return true;
  } finally {
    it.return?.();
  }
}

function skipGroup(it: Iterator<StateEntry>, head: Item): IteratorResult<StateEntry> {
  let r = it.next();
  while (r.done !== true && sameGroup(itemOf(r.value), head)) r = it.next();
  return r;
}

export function settleTrades(state: StateOverlay, block: BlockContext, budget: WorkBudget): BlockEvent[] {
  const events: BlockEvent[] = [];
  if (settleBucket(state, block, budget, SETTLE_HELD_PREFIX, events)) settleBucket(state, block, budget, SETTLE_QUEUE_PREFIX, events);
  return events;
}

function itemReads(i: Item): Uint8Array[] {
  const { trade } = i;
  return [
    marketKey(i.zone, i.intervalStartMs),
    closeQueueKey(i.intervalStartMs, i.deviceId, false),
    intervalTotalsKey(i.deviceId, i.intervalStartMs),
    energyUtxoKey(mintedUtxoId(i.deviceId, i.intervalStartMs)),
    settleProgressKey(i.intervalStartMs, i.deviceId),
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
 * block's time, and every held entry, the records their trades name. The entries are in
 * the state before the block's txs, which never write them.
 */
export function settlementDependentReads(declared: StateReader, block: BlockContext): HookReads {
  const keys = new Map<string, Uint8Array>();
  const prefixes = new Map<string, Uint8Array>();
  const add = (i: Item) => {
    for (const k of itemReads(i)) keys.set(toHex(k), k);
    const p = deviceAgreementsPrefix(i.deviceId);
    prefixes.set(toHex(p), p);
  };
  for (const e of declared.iterate(SETTLE_HELD_PREFIX)) add(itemOf(e));
  let n = 0;
  for (const e of declared.iterate(SETTLE_QUEUE_PREFIX)) {
    if (n++ >= QUEUE_LIMIT) break;
    const i = itemOf(e);
    if (settlesAt(i.intervalStartMs, block.params) > block.timestamp) break;
    add(i);
  }
  return { keys: [...keys.values()], prefixes: [...prefixes.values()] };
}

export const marketSettlementHook: EndBlockHook = {
  name: 'market-settlement',
  order: 30,
  workPerBlock: SETTLEMENT_WORK_PER_BLOCK,
  prefixes: () => [SETTLE_HELD_PREFIX],
  ranges: () => [{ prefix: SETTLE_QUEUE_PREFIX, limit: QUEUE_LIMIT }, ...clearingHeadRanges()],
  dependent: (block, declared) => settlementDependentReads(declared, block),
  run: settleTrades,
};
