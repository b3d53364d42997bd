import type { BlockEvent } from '../../core/block.ts';
import { compareBytes, toHex } from '../../core/bytes.ts';
import {
  decodeBookOrder,
  isPriced,
  marketInterval,
  marketOfOrder,
  parseOrderId,
  type BookOrder,
  type HeadProgress,
  type MarketRecord,
  type Side,
} from '../../core/market.ts';
import { MarketBucket } from '../../core/state-keys.ts';
import { firstEntry, headEntries, type StateEntry, type StateOverlay, type StateReader } from '../../state/overlay.ts';
import {
  bookPrefix,
  collateralKey,
  deleteBookOrder,
  deviceOfferKey,
  entryId,
  escrowKey,
  getMarketById,
  marketBookPrefix,
  marketKey,
  putHeld,
  putMarket,
  putTrade,
  settleItemKey,
  sideKey,
} from '../../state/markets.ts';
import { accountKey } from '../../state/keys.ts';
import { addressText, unlock } from '../accounts.ts';
import type { BlockContext, EndBlockHook, HookRange, HookReads, WorkBudget } from '../types.ts';
import { pricingPlan, pricingRecordsRange, priceMarket, resultAttributes } from './pricing.ts';
import { isPastGate } from './rules.ts';

/**
 * Auction clearing (end-of-block hook `market-clearing`): every market past its gate
 * closure is cleared by exactly the rule of vm/markets/auction.ts, in the first block at
 * or past the gate (and the blocks after, while its work exceeds a block's budget).
 *
 * The books are kept in state in the rule's order (core/market.ts orderId: price, then
 * height and index in block), market by market, earliest interval first; so step 1's sort
 * is the state's key order (each order inserted in O(log n)), and the walks read each book
 * from its head. Markets clear in ascending (interval, zone) order: the order of their
 * ids, which is also what lets the hook declare its reads from the block alone (the first
 * entries of two buckets, and what they name). Each block first prices every due market it
 * can, then writes the effects of the earliest ones. Each market goes through:
 *   pricing    steps 2-3 read only (vm/markets/pricing.ts): the walk of the crossing books,
 *              taking each price from the order's key and only the volume from its record,
 *              finds the result (P, volume, trades) and writes nothing but the market
 *              record. One work unit per PRICING_STEPS_PER_UNIT trades, so a 100,000-order
 *              market is priced in the block its gate closes in (event `market-priced`),
 *              and the markets after it need not wait for its effects; the books are frozen
 *              past the gate (no order placed or cancelled), so the result is the trades' own;
 *   matching   the same walk again, writing: CLEARING_UNITS.trade a trade; a bid that is done
 *              leaves the book with its escrow above ceil(traded x P / 1000) released (step
 *              4) and the rest held for settlement, an ask that is done keeps its collateral
 *              for settlement; the partly consumed heads are kept in the market record;
 *   expiring   step 4: CLEARING_UNITS.refund per order that did not trade: refunded in full;
 *   cleared    every effect is written.
 * Every trade is recorded (state/markets.ts) with an event, and queued for settlement by
 * its interval and the seller's device.
 */

/** Work units the clearing draws per block (with the interval close's 1,000 at most, settlement's 2,000, the agreements' 500 and flexibility's 1,000: 7,000 of MAX_END_BLOCK_WORK). */
export const CLEARING_WORK_PER_BLOCK = 2_500;

/**
 * What writing an effect draws, by what it writes (vm/types.ts EndBlockHook: a unit is about
 * a transfer's writes): a trade writes about 8 records (its record, its settlement queue
 * entry, and, as orders finish, the escrow or collateral held, the owner's account, the book
 * entry and its markers; 11 when it finishes both its orders), a refund 3. At a unit a trade,
 * a block of 2,500 trades wrote about 20,000 and missed the round-0 timer of an idle devnet.
 * Pricing reads only: a unit per PRICING_STEPS_PER_UNIT trades.
 */
export const CLEARING_UNITS = { trade: 4, refund: 2 } as const;
/**
 * Entries read from each bucket's head: as many as a block's effects can take off one side
 * (an entry leaves it for a trade's units or a refund's, whichever is fewer), and one to peek.
 */
const HEAD_LIMIT = Math.floor(CLEARING_WORK_PER_BLOCK / Math.min(CLEARING_UNITS.trade, CLEARING_UNITS.refund)) + 1;

const BIDS = bookPrefix('bid');
const ASKS = bookPrefix('ask');

/** The earliest market past its gate with clearing work left, from the heads of the two books. */
function nextMarket(state: StateReader, block: BlockContext): Uint8Array | undefined {
  let best: Uint8Array | undefined;
  for (const prefix of [BIDS, ASKS]) {
    const e = firstEntry(state, prefix);
    if (e === undefined) continue;
    const m = marketOfOrder(entryId(e));
    if (best === undefined || compareBytes(m, best) < 0) best = m;
  }
  return best !== undefined && isPastGate(marketInterval(best), block.params, block.timestamp) ? best : undefined;
}

/**
 * Whether clearing has finished every market of the intervals up to `intervalStartMs`: no
 * order of theirs is left in the books (markets clear in interval order, and an order
 * leaves its book only with all its effects written), so all their trades are queued for
 * settlement. What an agreement slot waits for (vm/agreements/execution.ts): a block's
 * budget may leave a busy market half-cleared past its interval's settlement, and the
 * device selling in it may be in any zone.
 */
export function clearedThrough(state: StateReader, intervalStartMs: number): boolean {
  for (const prefix of [BIDS, ASKS]) {
    const e = firstEntry(state, prefix);
    if (e !== undefined && marketInterval(marketOfOrder(entryId(e))) <= intervalStartMs) return false;
  }
  return true;
}

/**
 * The books' heads, as far as a block can need them: what the clearing's budget can
 * consume, and past that, the head of the markets to come, which the clearing (nextMarket)
 * and the hooks after it (clearedThrough) peek at. Entries the block's txs deleted lie in
 * between: each order-cancel deletes its order's book entry, and cancelling the best orders
 * of a market to come moves that head by one. A slice of HEAD_LIMIT alone let a block of
 * HEAD_LIMIT such cancels make every validator read past it and halt (vm/staged-limits.test.ts);
 * a block holds at most maxBlockTxs txs, so this many entries always cover the peek.
 */
export const clearingHeadRanges = (block: BlockContext): HookRange[] =>
  [BIDS, ASKS].map((prefix) => ({ prefix, limit: HEAD_LIMIT + block.params.maxBlockTxs }));

/** An order leaving the book at clearing: its market-side and device-offer markers go with it. */
function dropMarkers(state: StateOverlay, m: Uint8Array, o: BookOrder, device: string | undefined): void {
  state.delete(sideKey(m, o.owner));
  if (device !== undefined) state.delete(deviceOfferKey(m, device));
}

type Attribute = readonly [string, string];

/**
 * The head of one side's book during the matching walk. What every trade of the order names
 * (its id's hex and its owner's address text, as event attributes) is made once per order,
 * not once per trade; events share those attributes (they are never mutated).
 */
interface Cursor {
  side: Side;
  /** A copy of the id: trades keep it after the walk has moved on. */
  id: Uint8Array;
  order: BookOrder;
  price: bigint;
  device: string | undefined;
  left: bigint;
  trades: number;
  idAttribute: Attribute | undefined;
  ownerAttribute: Attribute | undefined;
}

function cursorOf(it: Iterator<StateEntry>, side: Side, head: HeadProgress | undefined): Cursor | undefined {
  const r = it.next();
  if (r.done === true) return undefined;
  const order = decodeBookOrder(r.value[1]);
  // A copy (the key may be a view of a larger buffer); slice, not Uint8Array.from's iteration.
  const id = entryId(r.value).slice();
  const ref = parseOrderId(id, 'order');
  const resumed = head !== undefined && compareBytes(head.id, id) === 0;
  return {
    side,
    id,
    order,
    price: ref.price,
    device: ref.deviceId,
    left: resumed ? head.remainingWh : order.volumeWh,
    trades: resumed ? head.trades : 0,
    idAttribute: undefined,
    ownerAttribute: undefined,
  };
}

const idAttribute = (c: Cursor): Attribute => (c.idAttribute ??= [c.side, toHex(c.id)]);
const ownerAttribute = (c: Cursor): Attribute => (c.ownerAttribute ??= [c.side === 'bid' ? 'buyer' : 'seller', addressText(c.order.owner)]);

const progress = (c: Cursor | undefined): HeadProgress | undefined =>
  c === undefined || (c.left === c.order.volumeWh && c.trades === 0) ? undefined : { id: c.id, remainingWh: c.left, trades: c.trades };

/** A bid that traded leaves the book: step 4 keeps ceil(traded x P / 1000) for settlement and releases the rest. */
function bidDone(state: StateOverlay, m: Uint8Array, c: Cursor, price: bigint): void {
  // Rounded up, as at placing: escrow >= ceil(volume x bid price / 1000) >= this, since traded <= volume and P <= bid price.
  const held = ((c.order.volumeWh - c.left) * price + 999n) / 1000n;
  unlock(state, c.order.owner, c.order.locked - held);
  putHeld(state, escrowKey(c.id), { owner: c.order.owner, amount: held, open: c.trades });
  deleteBookOrder(state, 'bid', c.id);
  dropMarkers(state, m, c.order, c.device);
}

function askDone(state: StateOverlay, m: Uint8Array, c: Cursor): void {
  // The whole collateral stays until the ask's trades settle (the penalty draws on it).
  putHeld(state, collateralKey(c.id), { owner: c.order.owner, amount: c.order.locked, open: c.trades });
  deleteBookOrder(state, 'ask', c.id);
  dropMarkers(state, m, c.order, c.device);
}

/** Steps 2 and 4 for the trades, written at the price pricing found. Returns the market as it stands; status `expiring` when the walk ended. */
function matchMarket(state: StateOverlay, m: Uint8Array, mk: MarketRecord, budget: WorkBudget, events: BlockEvent[]): MarketRecord {
  const bidIt = state.iterate(marketBookPrefix('bid', m));
  const askIt = state.iterate(marketBookPrefix('ask', m));
  let bid = cursorOf(bidIt, 'bid', mk.headBid);
  let ask = cursorOf(askIt, 'ask', mk.headAsk);
  let recorded = mk.recorded;
  const zoneAttribute: Attribute = ['zone', mk.zone];
  const intervalAttribute: Attribute = ['intervalStartMs', String(mk.intervalStartMs)];
  try {
    while (bid !== undefined && ask !== undefined && bid.price >= ask.price) {
      if (!budget.take(CLEARING_UNITS.trade)) return { ...mk, headBid: progress(bid), headAsk: progress(ask), recorded };
      const q = bid.left < ask.left ? bid.left : ask.left;
      const trade = {
        seq: recorded,
        bidId: bid.id,
        askId: ask.id,
        buyer: bid.order.owner,
        seller: ask.order.owner,
        deviceId: ask.order.deviceId!,
        volumeWh: q,
      };
      // The queue holds the same record: the same bytes, not encoded again (values are never mutated in place).
      const record = putTrade(state, m, trade);
      state.set(settleItemKey(MarketBucket.settleQueue, mk.intervalStartMs, trade.deviceId, mk.zone, trade.seq), record);
      events.push({
        type: 'trade',
        attributes: [
          zoneAttribute,
          intervalAttribute,
          ['seq', String(recorded)],
          idAttribute(bid),
          idAttribute(ask),
          ownerAttribute(bid),
          ownerAttribute(ask),
          ['volumeWh', q.toString()],
        ],
      });
      recorded++;
      bid.left -= q;
      ask.left -= q;
      bid.trades++;
      ask.trades++;
      if (bid.left === 0n) {
        bidDone(state, m, bid, mk.price);
        bid = cursorOf(bidIt, 'bid', undefined);
      }
      if (ask.left === 0n) {
        askDone(state, m, ask);
        ask = cursorOf(askIt, 'ask', undefined);
      }
    }
  } finally {
    bidIt.return?.();
    askIt.return?.();
  }
  // The walk ended: partly filled heads leave the book with what they traded.
  if (bid !== undefined && bid.trades > 0) bidDone(state, m, bid, mk.price);
  if (ask !== undefined && ask.trades > 0) askDone(state, m, ask);
  return { ...mk, status: 'expiring', headBid: undefined, headAsk: undefined, recorded };
}

/** Step 4 for orders that did not trade: refunded in full. */
function expireMarket(state: StateOverlay, m: Uint8Array, budget: WorkBudget): boolean {
  for (const side of ['bid', 'ask'] as Side[]) {
    for (const e of state.iterate(marketBookPrefix(side, m))) {
      if (!budget.take(CLEARING_UNITS.refund)) return false;
      const id = entryId(e);
      const o = decodeBookOrder(e[1]);
      unlock(state, o.owner, o.locked);
      deleteBookOrder(state, side, id);
      dropMarkers(state, m, o, parseOrderId(id, 'order').deviceId);
    }
  }
  return true;
}

/** Works on one market until it is cleared (true) or the budget is spent (false). */
function clearMarket(state: StateOverlay, m: Uint8Array, budget: WorkBudget, events: BlockEvent[]): boolean {
  let mk = getMarketById(state, m)!;
  // Not priced in this block's pricing pass: its budget or its plan ended before this market.
  if (!isPriced(mk)) return false;
  if (mk.status === 'matching') {
    mk = matchMarket(state, m, mk, budget, events);
    if (mk.status === 'matching') {
      putMarket(state, mk);
      return false;
    }
  }
  if (!expireMarket(state, m, budget)) {
    putMarket(state, mk);
    return false;
  }
  mk = { ...mk, status: 'cleared' };
  putMarket(state, mk);
  events.push({ type: 'market-cleared', attributes: [...resultAttributes(mk), ['orders', String(mk.bids + mk.asks)]] });
  return true;
}

/**
 * The block's clearing: first the pricing pass, which prices the due markets in order
 * (pricingPlan) while the budget lasts, so every market's result is known as early as the
 * budget allows, whatever the effects of the markets before it still take; then the
 * effects, market after market from the earliest, while the budget lasts.
 */
export function clearDueMarkets(state: StateOverlay, block: BlockContext, budget: WorkBudget): BlockEvent[] {
  const events: BlockEvent[] = [];
  const head = nextMarket(state, block);
  if (head !== undefined) {
    for (const item of pricingPlan(state, block, head, CLEARING_WORK_PER_BLOCK)) {
      const priced = priceMarket(state, item, budget, events);
      putMarket(state, priced);
      if (priced.status === 'pricing') break;
    }
  }
  for (;;) {
    const m = nextMarket(state, block);
    if (m === undefined || !clearMarket(state, Uint8Array.from(m), budget, events)) return events;
  }
}

/** The due entries at the books' heads, as far as a block's budget can reach: the only orders it can reach, and the markets it can work on. */
function* dueHeadEntries(declared: StateReader, block: BlockContext): Generator<{ market: Uint8Array; owner: Uint8Array }> {
  for (const prefix of [BIDS, ASKS]) {
    for (const e of headEntries(declared, prefix, HEAD_LIMIT)) {
      const ref = parseOrderId(entryId(e), 'order');
      if (!isPastGate(ref.intervalStartMs, block.params, block.timestamp)) break;
      yield { market: marketKey(ref.zone, ref.intervalStartMs), owner: decodeBookOrder(e[1]).owner };
    }
  }
}

/**
 * What the clearing reads besides the two heads: the records of the markets the heads' due
 * entries belong to and their owners' accounts, and the slice of market records the pricing
 * pass looks through. The due entries are in the state before the block's txs, which never
 * touch a market past its gate.
 */
export function clearingDependentReads(declared: StateReader, block: BlockContext): HookReads {
  const keys = new Map<string, Uint8Array>();
  for (const { market, owner } of dueHeadEntries(declared, block)) {
    for (const k of [market, accountKey(owner)]) keys.set(toHex(k), k);
  }
  const head = nextMarket(declared, block);
  // The market records the pricing pass looks through (the books' heads name the first).
  const ranges = head === undefined ? [] : [pricingRecordsRange(head)];
  return { keys: [...keys.values()], prefixes: [], ranges };
}

/**
 * The third stage: the slices of the books the pricing pass reads (pricingPlan), from the
 * market records the second stage loaded.
 */
export function clearingPricingReads(declared: StateReader, block: BlockContext): HookReads {
  const head = nextMarket(declared, block);
  return { keys: [], prefixes: [], ranges: head === undefined ? [] : pricingPlan(declared, block, head, CLEARING_WORK_PER_BLOCK).flatMap((p) => p.ranges) };
}

export const marketClearingHook: EndBlockHook = {
  name: 'market-clearing',
  order: 20,
  workPerBlock: CLEARING_WORK_PER_BLOCK,
  prefixes: () => [],
  ranges: clearingHeadRanges,
  dependent: (block, declared) => clearingDependentReads(declared, block),
  dependentNext: (block, declared) => clearingPricingReads(declared, block),
  run: clearDueMarkets,
};
