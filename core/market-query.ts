import type { BookOrder, MarketRecord, Settlement, Side, Trade } from './market.ts';

/**
 * What the RPC layer asks of a node about markets (rpc/node-api.ts) and what a node
 * answers (state/market-lists.ts): bounded pages with an opaque cursor, the bytes of the
 * last index key after its group's prefix. Every record comes with its state key.
 */

/** Most items one page holds (and the default). */
export const MAX_MARKET_PAGE = 100;

export interface MarketRef {
  readonly zone: string;
  readonly intervalStartMs: number;
}

export interface OrderBookQuery extends MarketRef {
  readonly side: Side;
  readonly limit: number;
  readonly after?: Uint8Array;
}

export interface ListedOrder {
  readonly id: Uint8Array;
  readonly order: BookOrder;
  /** The book entry's state key. */
  readonly key: Uint8Array;
}

export interface OrderBookPage {
  /** undefined: no order was ever placed in the market. */
  readonly market: MarketRecord | undefined;
  readonly orders: readonly ListedOrder[];
  readonly next: Uint8Array | undefined;
}

export interface MarketTradesQuery extends MarketRef {
  readonly limit: number;
  readonly after?: Uint8Array;
}

export interface AccountTradesQuery {
  readonly account: Uint8Array;
  readonly limit: number;
  readonly after?: Uint8Array;
}

/** A trade with its market's price, its settlement once settled, and the keys that prove them. */
export interface ListedTrade {
  readonly zone: string;
  readonly intervalStartMs: number;
  /** The market's clearing price P (every trade of a market is at P). */
  readonly price: bigint;
  readonly trade: Trade;
  readonly key: Uint8Array;
  readonly settlement: Settlement | undefined;
  readonly settlementKey: Uint8Array;
  /** The account index entry that listed it (account listings only). */
  readonly indexKey: Uint8Array | undefined;
}

export interface TradePage {
  readonly trades: readonly ListedTrade[];
  readonly next: Uint8Array | undefined;
}
