import { utf8 } from '../core/bytes.ts';
import { decode, encode, readAmount } from '../core/codec.ts';
import { StatePrefix, stateKey } from './keys.ts';
import type { StateOverlay, StateReader } from './overlay.ts';

/**
 * The total supply of settlement currency: every account's balance plus locked funds.
 * Genesis writes it (at most 2^64-1, genesis/validate.ts); only currency-mint and
 * currency-burn change it, mint within that bound, so no payment, fee or refund can ever
 * carry an account past what an amount encodes.
 */
export const SUPPLY_KEY = stateKey(StatePrefix.chainMeta, utf8('supply'));

/** The total supply; undefined in a state not made from a genesis (test fixtures that write accounts directly). */
export function getSupply(state: StateReader): bigint | undefined {
  const raw = state.get(SUPPLY_KEY);
  return raw === undefined ? undefined : readAmount(decode(raw, 'supply'), 'supply');
}

export function putSupply(state: StateOverlay, supply: bigint): void {
  state.set(SUPPLY_KEY, encode(supply));
}
