import { concatBytes, readU64be, u32be, u64be, utf8 } from '../core/bytes.ts';
import { decode, encode, readAmount, readArray, readUint } from '../core/codec.ts';
import {
  decodeBookOrder,
  decodeHeld,
  decodeMarket,
  decodeSettleProgress,
  decodeSettlement,
  decodeTrade,
  encodeBookOrder,
  encodeHeld,
  encodeMarket,
  encodeSettleProgress,
  encodeSettlement,
  encodeTrade,
  type BookOrder,
  type Held,
  type MarketRecord,
  type SettleProgress,
  type Settlement,
  type Side,
  type Trade,
} from '../core/market.ts';
import { MarketBucket, marketBucketKey, marketId, marketKey } from '../core/state-keys.ts';
import type { StateEntry, StateOverlay, StateReader } from './overlay.ts';

/**
 * The double auction's records (StatePrefix.order = 0x20, core/state-keys.ts MarketBucket),
 * with M = u64be(intervalStartMs) ++ u8(len zone) ++ zone and order ids as core/market.ts:
 *
 *   0x20 0x01 ++ M                          -> MarketRecord (counts, clearing progress, result)
 *   0x20 0x02 ++ bid id                     -> BookOrder (open bids, best first)
 *   0x20 0x03 ++ ask id                     -> BookOrder (open asks, best first)
 *   0x20 0x05 ++ M ++ u32be(seq)            -> Trade
 *   0x20 0x06 ++ bid id                     -> Held (escrow kept for settlement)
 *   0x20 0x07 ++ ask id                     -> Held (collateral kept for settlement)
 *   0x20 0x08 ++ u64be(I) ++ lp(device) ++ lp(zone) ++ u32be(seq) -> Trade (waiting for meter data)
 *   0x20 0x09 ++ same as 0x08               -> Trade (waiting for a frozen interval's resolution)
 *   0x20 0x0a ++ address ++ M ++ u32be(seq) -> 0x01 (an account's trades)
 *   0x20 0x0b ++ M ++ u32be(seq)            -> Settlement
 *   0x20 0x0c ++ M ++ address               -> [side, open orders]
 *   0x20 0x0d ++ M ++ deviceId              -> Wh offered by the device's open asks
 *   0x20 0x0e ++ u64be(I) ++ lp(device)     -> SettleProgress
 *   0x20 0x0f ++ u64be(I) ++ lp(device)     -> Wh the device's trades of I sold (once all settled)
 *   0x20 0x10 ++ u64be(I) ++ lp(device)     -> u64be(height): I resolved (tx 27) at that height; its held trades settle
 *
 * Every market is listed interval first: the books' heads are the earliest markets' best
 * orders, which is what the clearing hook reads (vm/markets/clearing.ts).
 */

export { marketId, marketKey };

const PRESENT = new Uint8Array([1]);
const key = marketBucketKey;

function lp(s: string): Uint8Array {
  const b = utf8(s);
  return concatBytes(new Uint8Array([b.length]), b);
}

// ---- markets ----

export const MARKETS_PREFIX = key(MarketBucket.market);

export function getMarket(state: StateReader, zone: string, intervalStartMs: number): MarketRecord | undefined {
  const raw = state.get(marketKey(zone, intervalStartMs));
  return raw === undefined ? undefined : decodeMarket(raw);
}

export function getMarketById(state: StateReader, m: Uint8Array): MarketRecord | undefined {
  const raw = state.get(key(MarketBucket.market, m));
  return raw === undefined ? undefined : decodeMarket(raw);
}

export function putMarket(state: StateOverlay, m: MarketRecord): void {
  state.set(marketKey(m.zone, m.intervalStartMs), encodeMarket(m));
}

// ---- books ----

export function bookBucket(side: Side): number {
  return side === 'bid' ? MarketBucket.bids : MarketBucket.asks;
}

/** Every open order of one side, earliest market first, best first within it. */
export function bookPrefix(side: Side): Uint8Array {
  return key(bookBucket(side));
}

/** One market's open orders of one side. */
export function marketBookPrefix(side: Side, m: Uint8Array): Uint8Array {
  return key(bookBucket(side), m);
}

export function bookKey(side: Side, id: Uint8Array): Uint8Array {
  return key(bookBucket(side), id);
}

export function getBookOrder(state: StateReader, side: Side, id: Uint8Array): BookOrder | undefined {
  const raw = state.get(bookKey(side, id));
  return raw === undefined ? undefined : decodeBookOrder(raw);
}

export function putBookOrder(state: StateOverlay, side: Side, id: Uint8Array, o: BookOrder): void {
  state.set(bookKey(side, id), encodeBookOrder(o));
}

export function deleteBookOrder(state: StateOverlay, side: Side, id: Uint8Array): void {
  state.delete(bookKey(side, id));
}

/** The id of a book entry (its key without the two prefix bytes). */
export function entryId(entry: StateEntry): Uint8Array {
  return entry[0].subarray(2);
}

export { decodeBookOrder, decodeTrade };

// ---- trades and settlements ----

export function tradeKey(m: Uint8Array, seq: number): Uint8Array {
  return key(MarketBucket.trade, m, u32be(seq));
}

export function tradesPrefix(m: Uint8Array): Uint8Array {
  return key(MarketBucket.trade, m);
}

export function getTrade(state: StateReader, m: Uint8Array, seq: number): Trade | undefined {
  const raw = state.get(tradeKey(m, seq));
  return raw === undefined ? undefined : decodeTrade(raw);
}

/** Writes a trade and both parties' index entries. Returns the trade's encoding (the settlement queue holds the same bytes). */
export function putTrade(state: StateOverlay, m: Uint8Array, t: Trade): Uint8Array {
  const value = encodeTrade(t);
  state.set(tradeKey(m, t.seq), value);
  state.set(key(MarketBucket.tradeByAccount, t.buyer, m, u32be(t.seq)), PRESENT);
  state.set(key(MarketBucket.tradeByAccount, t.seller, m, u32be(t.seq)), PRESENT);
  return value;
}

/** One account's trades, as buyer or seller, by (interval, zone, seq). */
export function accountTradesPrefix(address: Uint8Array): Uint8Array {
  return key(MarketBucket.tradeByAccount, address);
}

export function settlementKey(m: Uint8Array, seq: number): Uint8Array {
  return key(MarketBucket.settlement, m, u32be(seq));
}

export function getSettlement(state: StateReader, m: Uint8Array, seq: number): Settlement | undefined {
  const raw = state.get(settlementKey(m, seq));
  return raw === undefined ? undefined : decodeSettlement(raw);
}

export function putSettlement(state: StateOverlay, m: Uint8Array, seq: number, s: Settlement): void {
  state.set(settlementKey(m, seq), encodeSettlement(s));
}

// ---- held money ----

export function escrowKey(bidId: Uint8Array): Uint8Array {
  return key(MarketBucket.escrow, bidId);
}

export function collateralKey(askId: Uint8Array): Uint8Array {
  return key(MarketBucket.collateral, askId);
}

export function getHeld(state: StateReader, k: Uint8Array): Held | undefined {
  const raw = state.get(k);
  return raw === undefined ? undefined : decodeHeld(raw);
}

export function putHeld(state: StateOverlay, k: Uint8Array, h: Held): void {
  state.set(k, encodeHeld(h));
}

// ---- settlement queue ----

export const SETTLE_QUEUE_PREFIX = key(MarketBucket.settleQueue);
export const SETTLE_HELD_PREFIX = key(MarketBucket.settleHeld);

/** A trade's place in the queue: by interval, then the seller's device, then market zone and trade order. */
export function settleItemKey(bucket: number, intervalStartMs: number, deviceId: string, zone: string, seq: number): Uint8Array {
  return key(bucket, u64be(intervalStartMs), lp(deviceId), lp(zone), u32be(seq));
}

/**
 * The (interval, device) a key of the form 0x20 bucket ++ u64be(I) ++ lp(device) ++ ... names
 * (queue, held, resolved, progress): a group settled together. Device ids are ASCII.
 */
export function intervalDeviceOf(k: Uint8Array): { readonly intervalStartMs: number; readonly deviceId: string } {
  return { intervalStartMs: readU64be(k, 2), deviceId: Buffer.from(k.subarray(11, 11 + k[10]!)).toString('latin1') };
}

/** The queue entries (or held entries) of one device's trades in one interval. */
export function settleGroupPrefix(bucket: number, intervalStartMs: number, deviceId: string): Uint8Array {
  return key(bucket, u64be(intervalStartMs), lp(deviceId));
}

/**
 * A resolved interval's marker: written by the resolution (tx 27) with its block's height,
 * it names the one held group (settleGroupPrefix(settleHeld, I, device)) the settlement hook
 * settles from the next block, so the hook never lists the whole held bucket.
 */
export const SETTLE_RESOLVED_PREFIX = key(MarketBucket.settleResolved);

export function settleResolvedKey(intervalStartMs: number, deviceId: string): Uint8Array {
  return key(MarketBucket.settleResolved, u64be(intervalStartMs), lp(deviceId));
}

export function putSettleResolved(state: StateOverlay, intervalStartMs: number, deviceId: string, height: number): void {
  state.set(settleResolvedKey(intervalStartMs, deviceId), u64be(height));
}

export interface ResolvedMarker {
  readonly key: Uint8Array;
  readonly intervalStartMs: number;
  readonly deviceId: string;
  /** The height of the block whose resolution wrote it. */
  readonly height: number;
}

export function resolvedMarkerOf([k, v]: StateEntry): ResolvedMarker {
  return { key: k, ...intervalDeviceOf(k), height: readU64be(v, 0) };
}

export function deviceTradedKey(intervalStartMs: number, deviceId: string): Uint8Array {
  return key(MarketBucket.deviceTraded, u64be(intervalStartMs), lp(deviceId));
}

/** A record that is one amount of Wh, 0 when absent. */
function getWh(state: StateReader, k: Uint8Array, what: string): bigint {
  const raw = state.get(k);
  return raw === undefined ? 0n : readAmount(decode(raw, what), what);
}

/** What the device's trades of the interval sold, Wh: 0 until they have all settled (or when it had none). */
export function getDeviceTraded(state: StateReader, intervalStartMs: number, deviceId: string): bigint {
  return getWh(state, deviceTradedKey(intervalStartMs, deviceId), 'deviceTraded');
}

export function putDeviceTraded(state: StateOverlay, intervalStartMs: number, deviceId: string, wh: bigint): void {
  state.set(deviceTradedKey(intervalStartMs, deviceId), encode(wh));
}

export function settleProgressKey(intervalStartMs: number, deviceId: string): Uint8Array {
  return key(MarketBucket.settleProgress, u64be(intervalStartMs), lp(deviceId));
}

export function getSettleProgress(state: StateReader, intervalStartMs: number, deviceId: string): SettleProgress | undefined {
  const raw = state.get(settleProgressKey(intervalStartMs, deviceId));
  return raw === undefined ? undefined : decodeSettleProgress(raw);
}

export function putSettleProgress(state: StateOverlay, intervalStartMs: number, deviceId: string, p: SettleProgress): void {
  state.set(settleProgressKey(intervalStartMs, deviceId), encodeSettleProgress(p));
}

// ---- one side per account per market; a device's offered volume ----

export function sideKey(m: Uint8Array, address: Uint8Array): Uint8Array {
  return key(MarketBucket.side, m, address);
}

export interface AccountSide {
  readonly side: Side;
  readonly open: number;
}

export function getAccountSide(state: StateReader, m: Uint8Array, address: Uint8Array): AccountSide | undefined {
  const raw = state.get(sideKey(m, address));
  if (raw === undefined) return undefined;
  const f = readArray(decode(raw, 'side'), 'side', 2);
  return { side: readUint(f[0]!, 'side.side') === 0 ? 'bid' : 'ask', open: readUint(f[1]!, 'side.open') };
}

/** Writes the account's side in the market; deletes it at zero open orders. */
export function putAccountSide(state: StateOverlay, m: Uint8Array, address: Uint8Array, s: AccountSide): void {
  if (s.open === 0) state.delete(sideKey(m, address));
  else state.set(sideKey(m, address), encode([s.side === 'bid' ? 0 : 1, s.open]));
}

export function deviceOfferKey(m: Uint8Array, deviceId: string): Uint8Array {
  return key(MarketBucket.deviceOffer, m, utf8(deviceId));
}

export function getDeviceOffer(state: StateReader, m: Uint8Array, deviceId: string): bigint {
  return getWh(state, deviceOfferKey(m, deviceId), 'deviceOffer');
}

export function putDeviceOffer(state: StateOverlay, m: Uint8Array, deviceId: string, wh: bigint): void {
  if (wh === 0n) state.delete(deviceOfferKey(m, deviceId));
  else state.set(deviceOfferKey(m, deviceId), encode(wh));
}
