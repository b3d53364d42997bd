import type { DeviceRecord } from '../../core/device.ts';
import { bitsToRoles } from '../../core/roles.ts';
import { DeviceBucket, StatePrefix } from '../../core/state-keys.ts';
import type { AccountView } from '../../rpc/node-api.ts';
import { decodeAccount } from '../../state/accounts.ts';
import { decodeDevice } from '../../core/device.ts';

/** A state value read by a client (e.g. from a proof), decoded by the kind of record its key names. */
export type StateValueView = { readonly kind: 'account'; readonly account: AccountView } | { readonly kind: 'device'; readonly device: DeviceRecord };

/**
 * Decodes `value` as the record `key` names, for clients that hold raw state (the CLI
 * verifying a proof), which reach state/'s record codecs only through node/. undefined
 * for a kind without a view here, or bytes that do not decode as that kind.
 */
export function decodeStateValue(key: Uint8Array, value: Uint8Array): StateValueView | undefined {
  try {
    if (key[0] === StatePrefix.account) {
      const a = decodeAccount(value);
      return { kind: 'account', account: { nonce: a.nonce, balance: a.balance, locked: a.locked, roles: bitsToRoles(a.roles) } };
    }
    if (key[0] === StatePrefix.device && key[1] === DeviceBucket.record) {
      const device = decodeDevice(value);
      // The record must be the one the key names, or a proof of one device could pass for another.
      return new TextDecoder().decode(key.subarray(2)) === device.id ? { kind: 'device', device } : undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
