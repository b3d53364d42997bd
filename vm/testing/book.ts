/**
 * Order books written straight into state, as order-place would leave them, for tests of the
 * clearing hook at sizes no block of order-place txs reaches quickly (not used by the node).
 * Every order's owner gets an account holding what its order locks.
 */
import { emptyMarket, encodeBookOrder, orderId, type Side } from '../../core/market.ts';
import { encodeAccount, EMPTY_ACCOUNT } from '../../state/accounts.ts';
import { accountKey } from '../../state/keys.ts';
import { bookKey, putMarket } from '../../state/markets.ts';
import type { StateOverlay } from '../../state/overlay.ts';

export interface BookOrderSpec {
  readonly side: Side;
  readonly price: bigint;
  readonly volumeWh: bigint;
}

/** A distinct owner per order: an account's side is one per market. */
export const bookOwner = (i: number): Uint8Array => {
  const a = new Uint8Array(20);
  new DataView(a.buffer).setUint32(16, i + 1);
  return a;
};

/**
 * Writes `orders` as one market's book (order i placed as tx i of the blocks from height 1,
 * owned by bookOwner(firstOwner + i)) and the market's record.
 */
function writeBook(o: StateOverlay, zone: string, intervalStartMs: number, orders: readonly BookOrderSpec[], firstOwner: number): void {
  orders.forEach((x, i) => {
    const deviceId = x.side === 'ask' ? `pv-${i}` : undefined;
    const id = orderId({ zone, intervalStartMs, side: x.side, price: x.price, height: 1 + (i >> 12), index: i & 4095, deviceId });
    const locked = x.side === 'bid' ? (x.volumeWh * x.price + 999n) / 1000n : 0n;
    const owner = bookOwner(firstOwner + i);
    o.set(bookKey(x.side, id), encodeBookOrder({ owner, volumeWh: x.volumeWh, deviceId, locked }));
    o.set(accountKey(owner), encodeAccount({ ...EMPTY_ACCOUNT, locked }));
  });
  const bids = orders.filter((x) => x.side === 'bid').length;
  putMarket(o, { ...emptyMarket(zone, intervalStartMs), bids, asks: orders.length - bids });
}

/** Writes several markets' books of one interval, in order, each order its own owner (bookOwner 0, 1, ... across them all). */
export function writeBooks(o: StateOverlay, intervalStartMs: number, books: readonly (readonly [zone: string, orders: readonly BookOrderSpec[]])[]): void {
  let owner = 0;
  for (const [zone, orders] of books) {
    writeBook(o, zone, intervalStartMs, orders, owner);
    owner += orders.length;
  }
}
