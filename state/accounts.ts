import { decode, encode, readAmount, readArray, readUint } from '../core/codec.ts';
import { accountKey } from './keys.ts';
import type { StateOverlay, StateReader } from './overlay.ts';

export interface Account {
  readonly nonce: number;
  /** Settlement currency, micro-units. */
  readonly balance: bigint;
  readonly locked: bigint;
  readonly roles: number;
}

export const EMPTY_ACCOUNT: Account = { nonce: 0, balance: 0n, locked: 0n, roles: 0 };

/** Wire form: [nonce, balance, locked, roles] */
export function encodeAccount(a: Account): Uint8Array {
  return encode([a.nonce, a.balance, a.locked, a.roles]);
}

export function decodeAccount(bytes: Uint8Array): Account {
  const f = readArray(decode(bytes, 'account'), 'account', 4);
  return {
    nonce: readUint(f[0]!, 'account.nonce'),
    balance: readAmount(f[1]!, 'account.balance'),
    locked: readAmount(f[2]!, 'account.locked'),
    roles: readUint(f[3]!, 'account.roles'),
  };
}

export function getAccount(state: StateReader, address: Uint8Array): Account {
  const raw = state.get(accountKey(address));
  return raw === undefined ? EMPTY_ACCOUNT : decodeAccount(raw);
}

export function putAccount(state: StateOverlay, address: Uint8Array, account: Account): void {
  state.set(accountKey(address), encodeAccount(account));
}
