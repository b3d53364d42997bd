import { concatBytes } from '../core/bytes.ts';

/**
 * State key space: one prefix byte per kind of record, then the record's id. These keys
 * are what the state tree authenticates and what `joule query proof KEY` proves.
 */
export const StatePrefix = {
  account: 0x01,
  validatorSet: 0x02,
  validatorVote: 0x03,
  evidence: 0x04,
  device: 0x10,
  energyUtxo: 0x11,
  order: 0x20,
  agreement: 0x21,
  chainMeta: 0x7f,
} as const;

export function stateKey(prefix: number, id: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([prefix]), id);
}

export function accountKey(address: Uint8Array): Uint8Array {
  return stateKey(StatePrefix.account, address);
}
