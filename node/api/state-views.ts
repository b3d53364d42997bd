import { bitsToRoles } from '../../core/roles.ts';
import { StatePrefix } from '../../core/state-keys.ts';
import type { AccountView } from '../../rpc/node-api.ts';
import { decodeAccount } from '../../state/accounts.ts';

/** A state value read by a client (e.g. from a proof), decoded by the kind of record its key names. */
export type StateValueView = { readonly kind: 'account'; readonly account: AccountView };

/**
 * Decodes `value` as the record `key` names, for clients that hold raw state (the CLI
 * verifying a proof), which reach state/'s record codecs only through node/. undefined
 * for a kind without a view here, or bytes that do not decode as that kind.
 */
export function decodeStateValue(key: Uint8Array, value: Uint8Array): StateValueView | undefined {
  if (key[0] !== StatePrefix.account) return undefined;
  try {
    const a = decodeAccount(value);
    return { kind: 'account', account: { nonce: a.nonce, balance: a.balance, locked: a.locked, roles: bitsToRoles(a.roles) } };
  } catch {
    return undefined;
  }
}
