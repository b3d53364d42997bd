import { formatAddress } from '../core/keys.ts';
import { decodeAccount, EMPTY_ACCOUNT, encodeAccount, type Account } from '../state/accounts.ts';
import { accountKey } from '../state/keys.ts';
import { byteId, type StateOverlay, type StateReader } from '../state/overlay.ts';

/**
 * The VM's account access: state/accounts.ts semantics (same keys, same encoding), with
 * decoded accounts cached by the identity of their encoded bytes. Decoding is a pure
 * function of the bytes and state values are never mutated in place, so a hit is always
 * what decoding would return; it saves re-decoding what an earlier tx of the block wrote
 * and what the base state hands back unchanged. The cache holds nothing alive (WeakMap).
 */
const decoded = new WeakMap<Uint8Array, Account>();

export function readAccount(state: StateReader, address: Uint8Array): Account {
  const raw = state.get(accountKey(address));
  if (raw === undefined) return EMPTY_ACCOUNT;
  let a = decoded.get(raw);
  if (a === undefined) {
    a = decodeAccount(raw);
    decoded.set(raw, a);
  }
  return a;
}

export function writeAccount(state: StateOverlay, address: Uint8Array, account: Account): void {
  const raw = encodeAccount(account);
  decoded.set(raw, { nonce: account.nonce, balance: account.balance, locked: account.locked, roles: account.roles });
  state.set(accountKey(address), raw);
}

/** Moves `amount` from `from`'s balance (or, `fromLocked`, its locked funds) to `to`'s balance. */
export function move(state: StateOverlay, from: Uint8Array, to: Uint8Array, amount: bigint, fromLocked: boolean): void {
  if (amount === 0n) return;
  const a = readAccount(state, from);
  writeAccount(state, from, fromLocked ? { ...a, locked: a.locked - amount } : { ...a, balance: a.balance - amount });
  const b = readAccount(state, to);
  writeAccount(state, to, { ...b, balance: b.balance + amount });
}

/** Returns `amount` of `who`'s locked funds (an escrow, a collateral, a deposit) to its balance. */
export function unlock(state: StateOverlay, who: Uint8Array, amount: bigint): void {
  if (amount === 0n) return;
  const a = readAccount(state, who);
  writeAccount(state, who, { ...a, balance: a.balance + amount, locked: a.locked - amount });
}

/**
 * bech32 of an address for event attributes, memoised (bounded): the same accounts recur
 * in every block, and bech32's checksum is a noticeable share of a transfer's cost.
 * The cache changes only speed; the text is a pure function of the address.
 */
const TEXT_CACHE_LIMIT = 100_000;
const texts = new Map<string, string>();

export function addressText(address: Uint8Array): string {
  const k = byteId(address);
  let t = texts.get(k);
  if (t === undefined) {
    t = formatAddress(address);
    if (texts.size >= TEXT_CACHE_LIMIT) texts.clear();
    texts.set(k, t);
  }
  return t;
}
