/**
 * The clearing's pricing walk (vm/markets/clearing.ts runs it, a pass at the start of each
 * block): steps 2-3 of the auction's rule over a market's books past its gate, reading and
 * writing nothing but the market record, so the result (P, volume, trades) is known before
 * any trade is written and a busy market keeps no market after it waiting for its price.
 * What a block's pass may read is planned from the market records alone (pricingPlan), so
 * the node can load it before the block runs (the clearing hook's third stage).
 */
import type { BlockEvent } from '../../core/block.ts';
import { compareBytes } from '../../core/bytes.ts';
import { bookOrderVolume, decodeMarket, isPriced, marketInterval, orderPrice, type HeadProgress, type MarketRecord, type Side } from '../../core/market.ts';
import { MarketBucket, marketBucketKey } from '../../core/state-keys.ts';
import { bookKey, entryId, marketBookPrefix } from '../../state/markets.ts';
import { headEntries, type StateEntry, type StateReader } from '../../state/overlay.ts';
import type { BlockContext, HookRange, WorkBudget } from '../types.ts';
import { clearingPrice } from './auction.ts';
import { isPastGate } from './rules.ts';

/**
 * Steps of the pricing walk per work unit. A step reads an order's key and volume and writes
 * nothing: 1.3-1.6 us, about a 25th of a matching step's cost (which writes a trade, its
 * queue entry and account index entries, and releases or holds an order's money; a unit of
 * matching and expiry is 30-35 us), so a unit of either costs about the same and a block's
 * budget bounds its time whichever it spends. 2,500 units walk 80,000 steps: a market of
 * 100,000 orders (75,000 trades) is priced in one block.
 */
export const PRICING_STEPS_PER_UNIT = 32;
const MARKETS = marketBucketKey(MarketBucket.market);
/** Market records the pricing pass looks through in a block, from the earliest market with orders on. */
const PRICING_MARKETS = 256;

/** The market records pricingPlan looks through, from the earliest market with orders (`head`): what the node loads for it first. */
export const pricingRecordsRange = (head: Uint8Array): HookRange => ({
  prefix: MARKETS,
  from: marketBucketKey(MarketBucket.market, head),
  limit: PRICING_MARKETS,
});

/** A market's result as event attributes: `market-priced` carries these, `market-cleared` these and the orders. */
export const resultAttributes = (mk: MarketRecord): [string, string][] => [
  ['zone', mk.zone],
  ['intervalStartMs', String(mk.intervalStartMs)],
  ['price', mk.price.toString()],
  ['volumeWh', mk.volumeWh.toString()],
  ['trades', String(mk.trades)],
];

/** Where the pricing walk stands in one book: the order's book key, price and remaining volume. */
interface PricingCursor {
  /** The key as listed: its id (entryId) is made only where the walk stops, not for each order. */
  readonly key: Uint8Array;
  readonly price: bigint;
  left: bigint;
}

function pricingCursorOf(it: Iterator<StateEntry>, head: HeadProgress | undefined): PricingCursor | undefined {
  const r = it.next();
  if (r.done === true) return undefined;
  const [key, value] = r.value;
  const resumed = head !== undefined && compareBytes(head.id, entryId(r.value)) === 0;
  return { key, price: orderPrice(key, 2), left: resumed ? head.remainingWh : bookOrderVolume(value) };
}

const pricingProgress = (c: PricingCursor | undefined): HeadProgress | undefined =>
  c === undefined ? undefined : { id: c.key.slice(2), remainingWh: c.left, trades: 0 };

/** A market the pricing pass works on in a block, and the slices of its books it reads. */
export interface PricingItem {
  readonly mk: MarketRecord;
  /** The bid book's slice, then the ask book's. */
  readonly ranges: readonly [HookRange, HookRange];
}

/**
 * The markets the pricing pass works on in a block, in order: from the earliest market with
 * orders (`head`), each one past its gate and not yet priced, until a market not past its
 * gate, PRICING_MARKETS records, or twice the entries a block's steps can read (the first
 * market is always taken). Each side's slice starts where its walk stands and holds its open
 * orders and one more (a market's counts are its books' sizes until it is priced), at most
 * what the steps can read; the first market's slices hold that whatever its counts say, so
 * that it always progresses even if a count were ever wrong. The same on the state the node
 * loads before the block (the third stage declares these slices) and on the block's: past
 * its gate, a market's record and books change only by this hook, and the head is the same
 * market.
 */
export function pricingPlan(state: StateReader, block: BlockContext, head: Uint8Array, unitsPerBlock: number): PricingItem[] {
  // Entries of each book one block's walk can read: one per step, and one to peek; the pass's
  // markets together, twice that (the first market's slices count what its counts expect).
  const sliceLimit = unitsPerBlock * PRICING_STEPS_PER_UNIT + 2;
  const maxReads = 2 * sliceLimit;
  const plan: PricingItem[] = [];
  let reads = 0;
  const records = pricingRecordsRange(head);
  for (const [key, value] of headEntries(state, records.prefix, records.limit, records.from)) {
    const m = key.subarray(MARKETS.length);
    if (!isPastGate(marketInterval(m), block.params, block.timestamp)) break;
    const mk = decodeMarket(value);
    // Priced already, or every order cancelled before the gate (nothing to clear: it stays open, as it always has).
    if (isPriced(mk) || mk.bids + mk.asks === 0) continue;
    const expected = [mk.bids, mk.asks].map((count) => Math.min(count + 1, sliceLimit));
    if (plan.length > 0 && reads + expected[0]! + expected[1]! > maxReads) break;
    reads += expected[0]! + expected[1]!;
    const slice = (side: Side, at: HeadProgress | undefined, count: number): HookRange => {
      const from = mk.status === 'pricing' && at !== undefined ? bookKey(side, at.id) : undefined;
      return { prefix: marketBookPrefix(side, m), ...(from === undefined ? {} : { from }), limit: plan.length === 0 ? sliceLimit : count };
    };
    plan.push({ mk, ranges: [slice('bid', mk.headBid, expected[0]!), slice('ask', mk.headAsk, expected[1]!)] });
  }
  return plan;
}

/**
 * Steps 2-3 without writing: the result of the walk, or, when the budget ends first, the
 * market in `pricing` with where the walk stands. It walks exactly as matchMarket does, so
 * the trades matching writes are the ones counted here.
 */
export function priceMarket(state: StateReader, item: PricingItem, budget: WorkBudget, events: BlockEvent[]): MarketRecord {
  const { mk, ranges } = item;
  const resuming = mk.status === 'pricing';
  // The slices the plan declared: each starts where the walk stands.
  const [bidSlice, askSlice] = ranges;
  const bidIt = state.iterate(bidSlice.prefix, bidSlice.from);
  const askIt = state.iterate(askSlice.prefix, askSlice.from);
  try {
    let bid = pricingCursorOf(bidIt, resuming ? mk.headBid : undefined);
    let ask = pricingCursorOf(askIt, resuming ? mk.headAsk : undefined);
    // Entries listed of each side, against its slice: a step lists at most one more of each.
    let bidsRead = 1;
    let asksRead = 1;
    let { trades, volumeWh, lastBidPrice, lastAskPrice } = resuming ? mk : { trades: 0, volumeWh: 0n, lastBidPrice: 0n, lastAskPrice: 0n };
    let steps = 0;
    while (bid !== undefined && ask !== undefined && bid.price >= ask.price) {
      // Out of budget, or (only if a market's counts were wrong: they are its books' sizes)
      // at the end of a slice: the walk waits here for a later block.
      if ((steps++ % PRICING_STEPS_PER_UNIT === 0 && !budget.take()) || bidsRead >= bidSlice.limit || asksRead >= askSlice.limit) {
        return { ...mk, status: 'pricing', headBid: pricingProgress(bid), headAsk: pricingProgress(ask), trades, volumeWh, lastBidPrice, lastAskPrice };
      }
      const q = bid.left < ask.left ? bid.left : ask.left;
      trades++;
      volumeWh += q;
      lastBidPrice = bid.price;
      lastAskPrice = ask.price;
      bid.left -= q;
      ask.left -= q;
      if (bid.left === 0n) {
        bid = pricingCursorOf(bidIt, undefined);
        bidsRead++;
      }
      if (ask.left === 0n) {
        ask = pricingCursorOf(askIt, undefined);
        asksRead++;
      }
    }
    const price = trades === 0 ? 0n : clearingPrice(lastBidPrice, lastAskPrice);
    const priced: MarketRecord = {
      ...mk,
      status: 'matching',
      headBid: undefined,
      headAsk: undefined,
      trades,
      volumeWh,
      lastBidPrice,
      lastAskPrice,
      price,
      recorded: 0,
    };
    events.push({ type: 'market-priced', attributes: resultAttributes(priced) });
    return priced;
  } finally {
    bidIt.return?.();
    askIt.return?.();
  }
}
