/**
 * The uniform-price double auction's rule (issue 11, "exactly this rule, identical on every
 * validator"), as a pure function over in-memory books. The clearing hook
 * (vm/markets/clearing.ts) applies the same rule to the books kept in state, whose keys
 * already sort in the rule's order (core/market.ts orderId), and resumes across blocks;
 * the vector and property tests check both against each other. Bigint only.
 */

export interface AuctionOrder {
  /** Any label the caller uses to recognise the order in the trades. */
  readonly id: string;
  /** Limit price, micro-units per kWh. */
  readonly price: bigint;
  readonly volumeWh: bigint;
  readonly height: number;
  /** Index of the placing tx in its block. */
  readonly index: number;
}

export interface AuctionTrade {
  readonly bid: string;
  readonly ask: string;
  readonly volumeWh: bigint;
}

export interface AuctionResult {
  readonly trades: readonly AuctionTrade[];
  /** Clearing price P (0 when nothing traded). */
  readonly price: bigint;
  readonly volumeWh: bigint;
  /** Limit prices of the last matched bid and ask (0 when nothing traded). */
  readonly lastBidPrice: bigint;
  readonly lastAskPrice: bigint;
}

const byTime = (a: AuctionOrder, b: AuctionOrder): number => (a.height !== b.height ? a.height - b.height : a.index - b.index);

/** Step 1, bids: price descending, then (height, index) ascending. */
export function sortBids(bids: readonly AuctionOrder[]): AuctionOrder[] {
  return [...bids].sort((a, b) => (a.price !== b.price ? (a.price > b.price ? -1 : 1) : byTime(a, b)));
}

/** Step 1, asks: price ascending, then (height, index) ascending. */
export function sortAsks(asks: readonly AuctionOrder[]): AuctionOrder[] {
  return [...asks].sort((a, b) => (a.price !== b.price ? (a.price < b.price ? -1 : 1) : byTime(a, b)));
}

/** Step 3: P = floor((last matched bid's price + last matched ask's price) / 2). */
export function clearingPrice(lastBidPrice: bigint, lastAskPrice: bigint): bigint {
  return (lastBidPrice + lastAskPrice) / 2n;
}

/** Steps 2 and 3 over books already in the rule's order. O(n). */
export function matchSorted(bids: readonly AuctionOrder[], asks: readonly AuctionOrder[]): AuctionResult {
  const trades: AuctionTrade[] = [];
  let i = 0;
  let j = 0;
  let bidLeft = bids[0]?.volumeWh ?? 0n;
  let askLeft = asks[0]?.volumeWh ?? 0n;
  let volumeWh = 0n;
  let lastBidPrice = 0n;
  let lastAskPrice = 0n;
  while (i < bids.length && j < asks.length && bids[i]!.price >= asks[j]!.price) {
    const q = bidLeft < askLeft ? bidLeft : askLeft;
    trades.push({ bid: bids[i]!.id, ask: asks[j]!.id, volumeWh: q });
    volumeWh += q;
    lastBidPrice = bids[i]!.price;
    lastAskPrice = asks[j]!.price;
    bidLeft -= q;
    askLeft -= q;
    if (bidLeft === 0n && ++i < bids.length) bidLeft = bids[i]!.volumeWh;
    if (askLeft === 0n && ++j < asks.length) askLeft = asks[j]!.volumeWh;
  }
  const price = trades.length === 0 ? 0n : clearingPrice(lastBidPrice, lastAskPrice);
  return { trades, price, volumeWh, lastBidPrice, lastAskPrice };
}

/** Steps 1 to 3: sort (O(n log n)), then walk (O(n)). */
export function clearAuction(bids: readonly AuctionOrder[], asks: readonly AuctionOrder[]): AuctionResult {
  return matchSorted(sortBids(bids), sortAsks(asks));
}
