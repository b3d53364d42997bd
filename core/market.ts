import { concatBytes, readU64be, u64be, utf8, utf8Text } from './bytes.ts';
import { decode, encode, readAmount, readArray, readBytes, readString, readUint, type Encodable } from './codec.ts';
import { isDeviceId, isZone, MAX_DEVICE_ID_LENGTH, MAX_ZONE_LENGTH } from './device.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { sha256 } from './hash.ts';
import { ADDRESS_LENGTH } from './keys.ts';
import { marketId } from './state-keys.ts';

/**
 * The double auction's vocabulary (vm/markets/, state/markets.ts, RPC, the CLI): order
 * ids, the records a market leaves in state, and their canonical encodings. Amounts are
 * bigint: volume in Wh, prices in micro-units of the settlement currency per kWh, money in
 * micro-units. Nothing here is a float.
 */

export type Side = 'bid' | 'ask';

const U64_MAX = 2n ** 64n - 1n;

/** The key a price sorts by: asks cheapest first, bids dearest first (2^64-1-price). */
export function priceKey(side: Side, price: bigint): bigint {
  return side === 'ask' ? price : U64_MAX - price;
}

/**
 * An order's id: M ++ side ++ u64be(price key) ++ u64be(height) ++ u32be(index) ++
 * u8(len) ++ deviceId (empty for a bid without device), where M is core/state-keys.ts
 * marketId(zone, interval). Within one market and side, ids compare in exactly the
 * auction's priority: price (best first), then (height, index in block), unique before
 * the device; and a cancellation names every key it touches by the id alone.
 */
export interface OrderRef {
  readonly zone: string;
  readonly intervalStartMs: number;
  readonly side: Side;
  readonly price: bigint;
  readonly height: number;
  readonly index: number;
  readonly deviceId: string | undefined;
}

export function orderId(r: OrderRef): Uint8Array {
  const idx = new Uint8Array(4);
  new DataView(idx.buffer).setUint32(0, r.index);
  const dev = utf8(r.deviceId ?? '');
  return concatBytes(
    marketId(r.zone, r.intervalStartMs),
    new Uint8Array([r.side === 'bid' ? 0 : 1]),
    u64be(priceKey(r.side, r.price)),
    u64be(r.height),
    idx,
    new Uint8Array([dev.length]),
    dev,
  );
}

const badId = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, field);

/** Reads an order id back; TX_INVALID_FIELD naming `field` when it is not one. */
export function parseOrderId(id: Uint8Array, field: string): OrderRef {
  if (!(id instanceof Uint8Array) || id.length < 10) throw badId(field, 'is not an order id');
  const zl = id[8]!;
  if (zl < 1 || zl > MAX_ZONE_LENGTH || id.length < 9 + zl + 1 + 8 + 8 + 4 + 1) throw badId(field, 'is not an order id');
  const dl = id[30 + zl]!;
  if (dl > MAX_DEVICE_ID_LENGTH || id.length !== 31 + zl + dl) throw badId(field, 'is not an order id');
  const device = utf8Text(id.subarray(31 + zl));
  if (dl > 0 && !isDeviceId(device)) throw badId(field, 'is not an order id (device)');
  const dv = new DataView(id.buffer, id.byteOffset, id.byteLength);
  const zone = utf8Text(id.subarray(9, 9 + zl));
  const s = id[9 + zl]!;
  if (s > 1) throw badId(field, 'is not an order id (side)');
  const side: Side = s === 0 ? 'bid' : 'ask';
  const r: OrderRef = {
    zone,
    intervalStartMs: marketInterval(id),
    side,
    price: orderPrice(id),
    height: readU64be(id, 18 + zl),
    index: dv.getUint32(26 + zl),
    deviceId: dl === 0 ? undefined : device,
  };
  if (!isZone(zone)) throw badId(field, 'is not an order id (zone)');
  if (side === 'ask' && dl === 0) throw badId(field, 'is not an order id (an ask has a device)');
  return r;
}

/**
 * The limit price in an order id (or a book's key, the id from `at`), from its price key:
 * parseOrderId's, and what the pricing walk reads of every crossing order without the rest.
 */
export function orderPrice(key: Uint8Array, at = 0): bigint {
  const p = at + 10 + key[at + 8]!;
  const hi = ((key[p]! << 24) | (key[p + 1]! << 16) | (key[p + 2]! << 8) | key[p + 3]!) >>> 0;
  const lo = ((key[p + 4]! << 24) | (key[p + 5]! << 16) | (key[p + 6]! << 8) | key[p + 7]!) >>> 0;
  const priceKey = (BigInt(hi) << 32n) | BigInt(lo);
  return key[p - 1] === 0 ? U64_MAX - priceKey : priceKey;
}

/** The start of a market's delivery interval, from its id M (or an order id, which begins with M). */
export function marketInterval(m: Uint8Array): number {
  return readU64be(m, 0);
}

/** The market part (M) of an order id. */
export function marketOfOrder(id: Uint8Array): Uint8Array {
  return id.subarray(0, 9 + id[8]!);
}

/** Escrow of a bid: ceil(volume x price / 1000), rounded up so the buyer can always pay for every Wh it may receive. */
export function bidEscrow(volumeWh: bigint, price: bigint): bigint {
  return (volumeWh * price + 999n) / 1000n;
}

/** Collateral of an ask: ceil(volume x price x bps / 10^7), rounded up like escrow. */
export function askCollateral(volumeWh: bigint, price: bigint, bps: number): bigint {
  return (volumeWh * price * BigInt(bps) + 9_999_999n) / 10_000_000n;
}

/** An open order in a book (the id holds market, side, price, height and index). */
export interface BookOrder {
  readonly owner: Uint8Array;
  readonly volumeWh: bigint;
  /** The delivering (ask) or consuming (bid, optional) device. */
  readonly deviceId: string | undefined;
  /** Escrow (bid) or collateral (ask) locked in the owner's account for this order. */
  readonly locked: bigint;
}

export function encodeBookOrder(o: BookOrder): Uint8Array {
  return encode([o.owner, o.volumeWh, o.deviceId ?? '', o.locked]);
}

/**
 * A book order's volume alone: what the pricing walk needs of each order. Read in place when
 * the record starts as every canonical one does (an array of 4, then the 20-byte owner) and
 * the volume is below 2^32 Wh; decoded whole otherwise. Either way the value decode gives.
 */
export function bookOrderVolume(bytes: Uint8Array): bigint {
  if (bytes[0] === 0x94 && bytes[1] === 0xc4 && bytes[2] === ADDRESS_LENGTH && bytes.length > 27) {
    const t = bytes[23]!;
    if (t < 0x80) return BigInt(t);
    if (t === 0xcc) return BigInt(bytes[24]!);
    if (t === 0xcd) return BigInt((bytes[24]! << 8) | bytes[25]!);
    if (t === 0xce) return BigInt(((bytes[24]! << 24) | (bytes[25]! << 16) | (bytes[26]! << 8) | bytes[27]!) >>> 0);
  }
  return readAmount(readArray(decode(bytes, 'order'), 'order', 4)[1]!, 'order.volumeWh');
}

export function decodeBookOrder(bytes: Uint8Array): BookOrder {
  const f = readArray(decode(bytes, 'order'), 'order', 4);
  const device = readString(f[2]!, 'order.deviceId', MAX_DEVICE_ID_LENGTH);
  return {
    owner: readBytes(f[0]!, 'order.owner', ADDRESS_LENGTH),
    volumeWh: readAmount(f[1]!, 'order.volumeWh'),
    deviceId: device === '' ? undefined : device,
    locked: readAmount(f[3]!, 'order.locked'),
  };
}

/** Money held for settlement: a traded bid's escrow or a traded ask's collateral, until its last trade settles. */
export interface Held {
  readonly owner: Uint8Array;
  readonly amount: bigint;
  /** Trades of the order not yet settled. */
  readonly open: number;
}

export function encodeHeld(h: Held): Uint8Array {
  return encode([h.owner, h.amount, h.open]);
}

export function decodeHeld(bytes: Uint8Array): Held {
  const f = readArray(decode(bytes, 'held'), 'held', 3);
  return { owner: readBytes(f[0]!, 'held.owner', ADDRESS_LENGTH), amount: readAmount(f[1]!, 'held.amount'), open: readUint(f[2]!, 'held.open') };
}

export const MARKET_STATUSES = ['open', 'pricing', 'matching', 'expiring', 'cleared'] as const;
/**
 * open: taking orders; pricing: gate closed, walking the crossing books without writing to
 * find the result (P, volume, trades); matching: priced, writing the trades in the same
 * walk, each traded bid's escrow above what its volume costs at P released as it leaves;
 * expiring: refunding the orders that did not trade; cleared: done.
 */
export type MarketStatus = (typeof MARKET_STATUSES)[number];

/**
 * Whether a market (its record, or its JSON) holds its clearing's result: past `pricing`.
 * Until then its counts are its books' sizes and the clearing's pricing pass has it to do.
 */
export const isPriced = (m: { readonly status: string }): boolean => m.status === 'matching' || m.status === 'expiring' || m.status === 'cleared';

/** Where a walk stands in one book: the order it is at, its remaining volume, and its trades so far (0 while pricing). */
export interface HeadProgress {
  readonly id: Uint8Array;
  readonly remainingWh: bigint;
  readonly trades: number;
}

export interface MarketRecord {
  readonly zone: string;
  readonly intervalStartMs: number;
  readonly status: MarketStatus;
  /** Open orders (placed minus cancelled); at gate closure, the number the market clears. */
  readonly bids: number;
  readonly asks: number;
  /** The walk's place in each book between blocks: the pricing walk's while pricing, the matching walk's while matching. */
  readonly headBid: HeadProgress | undefined;
  readonly headAsk: HeadProgress | undefined;
  /** Trades and volume: counted while pricing, final from matching on. */
  readonly trades: number;
  readonly volumeWh: bigint;
  /** Limit prices of the last matched bid and ask (0 before the first trade). */
  readonly lastBidPrice: bigint;
  readonly lastAskPrice: bigint;
  /** The clearing price P, set when pricing ends (0: nothing traded). */
  readonly price: bigint;
  /** Trades written to state so far by the matching walk (their seqs are 0 to this - 1). */
  readonly recorded: number;
}

export function emptyMarket(zone: string, intervalStartMs: number): MarketRecord {
  return {
    zone,
    intervalStartMs,
    status: 'open',
    bids: 0,
    asks: 0,
    headBid: undefined,
    headAsk: undefined,
    trades: 0,
    volumeWh: 0n,
    lastBidPrice: 0n,
    lastAskPrice: 0n,
    price: 0n,
    recorded: 0,
  };
}

const headWire = (h: HeadProgress | undefined): Encodable => (h === undefined ? [] : [h.id, h.remainingWh, h.trades]);

function readHead(v: Encodable, path: string): HeadProgress | undefined {
  const f = readArray(v, path);
  if (f.length === 0) return undefined;
  if (f.length !== 3) throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, 'expected 0 or 3 fields', path);
  return { id: readBytes(f[0]!, `${path}.id`), remainingWh: readAmount(f[1]!, `${path}.remainingWh`), trades: readUint(f[2]!, `${path}.trades`) };
}

export function encodeMarket(m: MarketRecord): Uint8Array {
  return encode([
    m.zone,
    m.intervalStartMs,
    MARKET_STATUSES.indexOf(m.status),
    m.bids,
    m.asks,
    headWire(m.headBid),
    headWire(m.headAsk),
    m.trades,
    m.volumeWh,
    m.lastBidPrice,
    m.lastAskPrice,
    m.price,
    m.recorded,
  ]);
}

export function decodeMarket(bytes: Uint8Array): MarketRecord {
  const f = readArray(decode(bytes, 'market'), 'market', 13);
  const status = MARKET_STATUSES[readUint(f[2]!, 'market.status')];
  if (status === undefined) throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, 'unknown market status', 'market.status');
  return {
    zone: readString(f[0]!, 'market.zone', MAX_ZONE_LENGTH),
    intervalStartMs: readUint(f[1]!, 'market.intervalStartMs'),
    status,
    bids: readUint(f[3]!, 'market.bids'),
    asks: readUint(f[4]!, 'market.asks'),
    headBid: readHead(f[5]!, 'market.headBid'),
    headAsk: readHead(f[6]!, 'market.headAsk'),
    trades: readUint(f[7]!, 'market.trades'),
    volumeWh: readAmount(f[8]!, 'market.volumeWh'),
    lastBidPrice: readAmount(f[9]!, 'market.lastBidPrice'),
    lastAskPrice: readAmount(f[10]!, 'market.lastAskPrice'),
    price: readAmount(f[11]!, 'market.price'),
    recorded: readUint(f[12]!, 'market.recorded'),
  };
}

/** One trade of a market, at the market's price P (in its record). */
export interface Trade {
  readonly seq: number;
  readonly bidId: Uint8Array;
  readonly askId: Uint8Array;
  readonly buyer: Uint8Array;
  readonly seller: Uint8Array;
  /** The ask's delivering device. */
  readonly deviceId: string;
  readonly volumeWh: bigint;
}

export function encodeTrade(t: Trade): Uint8Array {
  return encode([t.seq, t.bidId, t.askId, t.buyer, t.seller, t.deviceId, t.volumeWh]);
}

export function decodeTrade(bytes: Uint8Array): Trade {
  const f = readArray(decode(bytes, 'trade'), 'trade', 7);
  return {
    seq: readUint(f[0]!, 'trade.seq'),
    bidId: readBytes(f[1]!, 'trade.bidId'),
    askId: readBytes(f[2]!, 'trade.askId'),
    buyer: readBytes(f[3]!, 'trade.buyer', ADDRESS_LENGTH),
    seller: readBytes(f[4]!, 'trade.seller', ADDRESS_LENGTH),
    deviceId: readString(f[5]!, 'trade.deviceId', MAX_DEVICE_ID_LENGTH),
    volumeWh: readAmount(f[6]!, 'trade.volumeWh'),
  };
}

/** How a trade settled against the seller's meter. */
export interface Settlement {
  readonly deliveredWh: bigint;
  /** floor(delivered x P / 1000), escrow to seller. */
  readonly payment: bigint;
  /** Under-delivery penalty paid by the seller to the buyer (what collateral and balance covered). */
  readonly penalty: bigint;
  /** The energy UTXO the buyer received (absent when nothing was delivered). */
  readonly utxoId: Uint8Array | undefined;
  readonly height: number;
}

export function encodeSettlement(s: Settlement): Uint8Array {
  return encode([s.deliveredWh, s.payment, s.penalty, s.utxoId ?? new Uint8Array(0), s.height]);
}

export function decodeSettlement(bytes: Uint8Array): Settlement {
  const f = readArray(decode(bytes, 'settlement'), 'settlement', 5);
  const u = readBytes(f[3]!, 'settlement.utxoId');
  return {
    deliveredWh: readAmount(f[0]!, 'settlement.deliveredWh'),
    payment: readAmount(f[1]!, 'settlement.payment'),
    penalty: readAmount(f[2]!, 'settlement.penalty'),
    utxoId: u.length === 0 ? undefined : u,
    height: readUint(f[4]!, 'settlement.height'),
  };
}

/** A device's interval partly settled (its trades span blocks): Wh allocated so far, and the trades' volume so far. */
export interface SettleProgress {
  readonly allocatedWh: bigint;
  readonly tradedWh: bigint;
}

export function encodeSettleProgress(p: SettleProgress): Uint8Array {
  return encode([p.allocatedWh, p.tradedWh]);
}

export function decodeSettleProgress(bytes: Uint8Array): SettleProgress {
  const f = readArray(decode(bytes, 'settleProgress'), 'settleProgress', 2);
  return { allocatedWh: readAmount(f[0]!, 'settleProgress.allocatedWh'), tradedWh: readAmount(f[1]!, 'settleProgress.tradedWh') };
}

/** The id of the energy UTXO a trade's settlement gives the buyer: sha256(encode(["JOULE/energy-utxo/trade/v1", M, seq])). */
export const TRADE_UTXO_TAG = 'JOULE/energy-utxo/trade/v1';

const IMBALANCE_TAG = 'JOULE/imbalance/v1';

/**
 * The zone's imbalance account, which over-delivery charges are paid to: the first 20
 * bytes of sha256(encode(["JOULE/imbalance/v1", zone])). No key controls it; what it holds
 * is the zone's dso's to account for (spending it is a governance matter, not yet a tx).
 */
export function imbalanceAccount(zone: string): Uint8Array {
  return sha256(encode([IMBALANCE_TAG, zone])).subarray(0, ADDRESS_LENGTH);
}

/**
 * A device's over-delivery in an interval is its metered export beyond everything it was
 * to deliver then: its market trades (`tradedWh`) and its agreements' slots (`agreedWh`).
 * It is charged once in all, each of those settling its share in proportion to its volume
 * (`mineWh`), whichever settles first: floor(over x mine / (traded + agreed)) Wh, rounded
 * down so the shares never add up to more than the over-delivery.
 */
export function overDeliveryShare(exportWh: bigint, tradedWh: bigint, agreedWh: bigint, mineWh: bigint): bigint {
  const committed = tradedWh + agreedWh;
  if (exportWh <= committed || mineWh === 0n) return 0n;
  return ((exportWh - committed) * mineWh) / committed;
}
