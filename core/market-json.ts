/**
 * JSON shapes of the markets' RPC answers (docs/json-rpc.md Markets), shared by rpc/ and
 * the CLI like core/rpc-json.ts. Amounts are decimal strings; ids and keys 0x hex.
 */

export interface MarketJson {
  zone: string;
  intervalStartMs: number;
  /** open, pricing, matching, expiring, cleared */
  status: string;
  /** Open orders; once the gate closed, the number the market cleared. */
  bids: number;
  asks: number;
  trades: number;
  /** Trades written to state so far (equal to `trades` once the market is past `matching`). */
  recorded: number;
  volumeWh: string;
  /** The clearing price P, micro-units per kWh ("0" before clearing or with no trade). */
  price: string;
  lastBidPrice: string;
  lastAskPrice: string;
  stateKey: string;
}

export interface OrderJson {
  id: string;
  side: 'bid' | 'ask';
  owner: string;
  volumeWh: string;
  price: string;
  height: number;
  index: number;
  deviceId: string | null;
  /** Escrow (bid) or collateral (ask) locked for it. */
  locked: string;
  stateKey: string;
}

export interface OrderBookJson {
  market: MarketJson | null;
  side: 'bid' | 'ask';
  orders: OrderJson[];
  nextCursor: string | null;
}

export interface SettlementJson {
  deliveredWh: string;
  payment: string;
  penalty: string;
  /** The energy UTXO the buyer received; null when nothing was delivered. */
  utxo: string | null;
  height: number;
}

export interface TradeJson {
  zone: string;
  intervalStartMs: number;
  seq: number;
  bidId: string;
  askId: string;
  buyer: string;
  seller: string;
  deviceId: string;
  volumeWh: string;
  price: string;
  stateKey: string;
  settlement: SettlementJson | null;
  settlementKey: string;
  /** The account index entry that listed it (joule_getAccountTrades). */
  indexKey?: string;
}

export interface TradeListJson {
  trades: TradeJson[];
  nextCursor: string | null;
}

export interface MarketTradesJson extends TradeListJson {
  market: MarketJson | null;
}
