import { encode, type Encodable } from '../../core/codec.ts';
import { ErrorCode } from '../../core/errors.ts';
import { parseAddress } from '../../core/keys.ts';
import { bidEscrow, orderId, type Side } from '../../core/market.ts';
import { DEFAULT_PARAMS } from '../../core/params.ts';
import { buildOrderCancel, decodeOrderCancelBody, encodeOrderCancelBody } from '../../core/tx/order-cancel.ts';
import { buildOrderPlace, decodeOrderPlaceBody, encodeOrderPlaceBody, type OrderPlaceBody } from '../../core/tx/order-place.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { getMarketById, marketId, putAccountSide, putBookOrder, putMarket } from '../../state/markets.ts';
import type { StateOverlay } from '../../state/overlay.ts';
import { emptyMarket } from '../../core/market.ts';
import { type Fields, type InvalidTxVector, invalid, tx } from './invalid-tx-builder.ts';
import { hex, unhex } from './notation.ts';
import { CONTEXT_BLOCK } from './telemetry-vectors.ts';
import type { ValidTxVector } from './valid-txs.ts';
import { KEYS, VECTOR_CHAIN_ID, type VectorKey } from './vector-keys.ts';

/**
 * The markets' part of the vector file: valid and one-defect invalid order-place (32) and
 * order-cancel (33) transactions against the context chain, whose market NL for the
 * interval after the block's holds one open order, alice's bid (`context.openOrders`).
 */

const INTERVAL = DEFAULT_PARAMS.settlementIntervalMs;
/** The interval the block is in (its gate closed long ago) and the next one (open: its gate closes 5 minutes before it starts). */
const CURRENT_START = Math.floor(CONTEXT_BLOCK.timestampMs / INTERVAL) * INTERVAL;
export const MARKET_START = CURRENT_START + INTERVAL;

/** An open order of the context chain (owner by key name). */
export interface OpenOrderContext {
  id: string;
  owner: string;
  side: Side;
  zone: string;
  intervalStartMs: number;
  volumeWh: string;
  price: string;
  deviceId: string | null;
  height: number;
  index: number;
  locked: string;
}

/** alice bids 1,000 Wh at 240,000 micro-units/kWh in NL for the next interval, placed as tx 0 of block 9. */
export function contextOpenOrders(): OpenOrderContext[] {
  const o = { side: 'bid' as const, zone: 'NL', intervalStartMs: MARKET_START, price: 240_000n, height: 9, index: 0, deviceId: undefined };
  return [
    {
      id: hex(orderId(o)),
      owner: KEYS.alice.name,
      side: o.side,
      zone: o.zone,
      intervalStartMs: o.intervalStartMs,
      volumeWh: '1000',
      price: o.price.toString(),
      deviceId: null,
      height: o.height,
      index: o.index,
      locked: bidEscrow(1000n, o.price).toString(),
    },
  ];
}

/** Writes the context's open orders: book entries, their market's count, their owners' side. */
export function putOpenOrder(state: StateOverlay, o: OpenOrderContext, addressOf: (name: string) => string): void {
  const owner = parseAddress(addressOf(o.owner));
  const m = marketId(o.zone, o.intervalStartMs);
  putBookOrder(state, o.side, unhex(o.id), { owner, volumeWh: BigInt(o.volumeWh), deviceId: o.deviceId ?? undefined, locked: BigInt(o.locked) });
  const market = getMarketById(state, m) ?? emptyMarket(o.zone, o.intervalStartMs);
  putMarket(state, o.side === 'bid' ? { ...market, bids: market.bids + 1 } : { ...market, asks: market.asks + 1 });
  putAccountSide(state, m, owner, { side: o.side, open: 1 });
}

const placeJson = (b: OrderPlaceBody) => ({
  side: b.side === 'bid' ? 0 : 1,
  zone: b.zone,
  intervalStartMs: b.intervalStartMs,
  volumeWh: b.volumeWh.toString(),
  price: b.price.toString(),
  deviceId: b.deviceId ?? '',
});

type Vector = (name: string, description: string, signer: VectorKey, t: Tx, body: Record<string, unknown>) => ValidTxVector;

const BID: OrderPlaceBody = { side: 'bid', zone: 'NL', intervalStartMs: MARKET_START, volumeWh: 2_000n, price: 250_000n, deviceId: undefined };
const ASK: OrderPlaceBody = { side: 'ask', zone: 'NL', intervalStartMs: MARKET_START, volumeWh: 2_000n, price: 200_000n, deviceId: 'meter-0001' };

export function validMarketTxVectors(vector: Vector): ValidTxVector[] {
  const { alice, bob } = KEYS;
  const open = contextOpenOrders()[0]!;
  return [
    vector(
      'order-place-bid',
      'alice bids for 2,000 Wh at up to 250,000 micro-units/kWh in NL for the interval after the block; it escrows 500,000',
      alice,
      buildOrderPlace({ chainId: VECTOR_CHAIN_ID, seed: alice.seed, nonce: 3, fee: 10n, ...BID }),
      placeJson(BID),
    ),
    vector(
      'order-place-ask',
      "bob offers 2,000 Wh of meter-0001's export at 200,000 micro-units/kWh or more in the same market; it posts 20,000 collateral (5 %)",
      bob,
      buildOrderPlace({ chainId: VECTOR_CHAIN_ID, seed: bob.seed, nonce: 0, fee: 10n, ...ASK }),
      placeJson(ASK),
    ),
    vector(
      'order-cancel',
      'alice withdraws her open bid of the context (placed as tx 0 of block 9); its 240,000 escrow goes back to her balance',
      alice,
      buildOrderCancel({ chainId: VECTOR_CHAIN_ID, seed: alice.seed, nonce: 4, fee: 10n, orderId: unhex(open.id) }),
      { orderId: open.id },
    ),
  ];
}

const placeWire = (b: Partial<OrderPlaceBody> & { side?: Side }): Encodable => {
  const f = { ...BID, ...b };
  return [f.side === 'bid' ? 0 : 1, f.zone, f.intervalStartMs, f.volumeWh, f.price, f.deviceId ?? ''];
};
const fields = (type: number, sender: VectorKey, body: Encodable): Fields => ({
  chainId: VECTOR_CHAIN_ID,
  type,
  sender: sender.publicKey,
  nonce: 0,
  fee: 10n,
  body: encode(body),
});
const place = (sender: VectorKey, b: Partial<OrderPlaceBody>) => tx(fields(TxType.orderPlace, sender, placeWire(b)), {}, sender);
const cancel = (sender: VectorKey, id: Uint8Array) => tx(fields(TxType.orderCancel, sender, [id]), {}, sender);

export function invalidMarketTxVectors(): InvalidTxVector[] {
  const { alice, bob } = KEYS;
  const open = unhex(contextOpenOrders()[0]!.id);
  const ref = { side: 'bid' as const, zone: 'NL', price: 240_000n, height: 9, index: 0, deviceId: undefined };
  return [
    invalid(
      'order-place-above-price-cap',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.price',
      "a bid at 4,000,001 micro-units/kWh, above the chain's price cap of 4,000,000",
      place(alice, { price: DEFAULT_PARAMS.priceCap + 1n }),
    ),
    invalid(
      'order-place-unaligned-interval',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.intervalStartMs',
      'a market whose interval starts one minute into a 15-minute settlement interval',
      place(alice, { intervalStartMs: MARKET_START + 60_000 }),
    ),
    invalid(
      'order-place-ask-without-device',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.deviceId',
      'an ask that names no delivering device (deviceId "")',
      place(bob, { ...ASK, deviceId: undefined }),
    ),
    invalid(
      'order-place-gate-closed',
      'validateTx',
      ErrorCode.MARKET_CLOSED,
      'tx.body.intervalStartMs',
      'a bid for the interval the block is in: its gate closed 5 minutes before it started',
      place(alice, { intervalStartMs: CURRENT_START }),
    ),
    invalid(
      'order-place-other-side',
      'validateTx',
      ErrorCode.MARKET_SIDE_TAKEN,
      'tx.body.side',
      'alice asks in the market where she holds an open bid (one side per account per market)',
      place(alice, { ...ASK }),
    ),
    invalid(
      'order-place-device-of-another-owner',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.body.deviceId',
      "alice's bid names meter-0001 as the consuming device; bob owns it",
      place(alice, { deviceId: 'meter-0001' }),
    ),
    invalid(
      'order-place-beyond-export-limit',
      'validateTx',
      ErrorCode.MARKET_DEVICE_LIMIT,
      'tx.body.volumeWh',
      'bob offers 2,751 Wh of meter-0001, which exports at most 11,000 W: 2,750 Wh over 15 minutes',
      place(bob, { ...ASK, volumeWh: 2_751n }),
    ),
    invalid(
      'order-place-escrow-exceeds-balance',
      'validateTx',
      ErrorCode.TX_INSUFFICIENT_BALANCE,
      'tx.body.volumeWh',
      'bob bids for 4,000 Wh at 250,000: its escrow of 1,000,000 and the fee exceed his 1,000,000',
      place(bob, { volumeWh: 4_000n }),
    ),
    invalid(
      'order-cancel-unknown-order',
      'validateTx',
      ErrorCode.MARKET_ORDER_UNKNOWN,
      'tx.body.orderId',
      "the id of alice's open bid with tx index 1 instead of 0: no such order",
      cancel(alice, orderId({ ...ref, intervalStartMs: MARKET_START, index: 1 })),
    ),
    invalid('order-cancel-not-owner', 'validateTx', ErrorCode.TX_UNAUTHORIZED, 'tx.body.orderId', "bob cancels alice's open bid", cancel(bob, open)),
    invalid(
      'order-cancel-gate-closed',
      'validateTx',
      ErrorCode.MARKET_CLOSED,
      'tx.body.orderId',
      "an order in the market of the block's own interval, whose gate has closed",
      cancel(alice, orderId({ ...ref, intervalStartMs: CURRENT_START })),
    ),
    invalid(
      'order-cancel-not-an-order-id',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.orderId',
      'the order id cut short by one byte',
      cancel(alice, open.subarray(0, open.length - 1)),
    ),
  ];
}

/** The body codecs of types 32 and 33 seen through the vector file's JSON fields (vectors.test.ts BODY_CODECS). */
export const MARKET_BODY_CODECS: Record<string, { fields(body: Uint8Array): Record<string, unknown>; encode(body: Uint8Array): Uint8Array }> = {
  'order-place': {
    fields: (b) => placeJson(decodeOrderPlaceBody(b)),
    encode: (b) => encodeOrderPlaceBody(decodeOrderPlaceBody(b)),
  },
  'order-cancel': {
    fields: (b) => ({ orderId: hex(decodeOrderCancelBody(b).orderId) }),
    encode: (b) => encodeOrderCancelBody(decodeOrderCancelBody(b)),
  },
};
