import { emptyMarket, orderId, type MarketRecord } from '../../core/market.ts';
import type { ListedTrade } from '../../core/market-query.ts';
import type { Reversal } from '../../core/reversal.ts';

/**
 * One cleared market and one of its trades, settled, as the market reads of rpc/ and the
 * `joule market` commands are tested with: a bid at 300 and an ask at 100 (pv-0) in NL,
 * 1,000 Wh traded at 200, 600 Wh delivered; and its reversal by governors.
 */
export const buyer = new Uint8Array(20).fill(4);
export const seller = new Uint8Array(20).fill(5);
export const INTERVAL = 1_767_225_600_000;
export const bidId = orderId({ zone: 'NL', intervalStartMs: INTERVAL, side: 'bid', price: 300n, height: 7, index: 1, deviceId: undefined });
export const askId = orderId({ zone: 'NL', intervalStartMs: INTERVAL, side: 'ask', price: 100n, height: 7, index: 2, deviceId: 'pv-0' });

export const clearedMarket: MarketRecord = {
  ...emptyMarket('NL', INTERVAL),
  status: 'cleared',
  bids: 1,
  asks: 1,
  trades: 1,
  recorded: 1,
  volumeWh: 1000n,
  lastBidPrice: 300n,
  lastAskPrice: 100n,
  price: 200n,
};

export const settledTrade: ListedTrade = {
  zone: 'NL',
  intervalStartMs: INTERVAL,
  price: 200n,
  trade: { seq: 0, bidId, askId, buyer, seller, deviceId: 'pv-0', volumeWh: 1000n },
  key: new Uint8Array([0x20, 0x05, 1]),
  settlement: { deliveredWh: 600n, payment: 120n, penalty: 4n, utxoId: new Uint8Array(32).fill(0xee), height: 12 },
  settlementKey: new Uint8Array([0x20, 0x0b, 1]),
  indexKey: new Uint8Array([0x20, 0x0a, 1]),
};

export const governors = [new Uint8Array(20).fill(7), new Uint8Array(20).fill(8), new Uint8Array(20).fill(9)];

/** The settled trade's reversal, proposed by governor 0 at 20 and executed at 21 by governor 2's approval (k = 2). */
export const executedReversal: Reversal = {
  id: 1,
  zone: 'NL',
  intervalStartMs: INTERVAL,
  seq: 0,
  buyer,
  seller,
  reason: 'pv-0 meter miscalibrated',
  approvers: [governors[0]!, governors[2]!],
  proposedHeight: 20,
  executedHeight: 21,
};
