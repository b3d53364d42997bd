import { utf8 } from '../core/bytes.ts';
import { decode, encode, readArray, readBytes, readString } from '../core/codec.ts';
import { BLS_PUBLIC_KEY_LENGTH, ED25519_PUBLIC_KEY_LENGTH, ADDRESS_LENGTH } from '../core/keys.ts';
import { type Validator, ValidatorSet } from '../core/validators.ts';
import { StatePrefix, stateKey } from './keys.ts';
import type { StateOverlay, StateReader } from './overlay.ts';

/**
 * The validator set lives in the authenticated state (so a light client can prove who
 * certifies the next block); votes change it, applied at the next height.
 */
export const VALIDATOR_SET_KEY = stateKey(StatePrefix.validatorSet, utf8('current'));

/** Wire form: [[name, address, identityKey, blsKey], ...] sorted by address. */
export function encodeValidators(set: ValidatorSet): Uint8Array {
  return encode(set.validators.map((v) => [v.name, v.address, v.identityKey, v.blsKey]));
}

export function decodeValidators(bytes: Uint8Array): ValidatorSet {
  const list = readArray(decode(bytes, 'validators'), 'validators').map((v, i): Validator => {
    const f = readArray(v, `validators[${i}]`, 4);
    return {
      name: readString(f[0]!, `validators[${i}].name`),
      address: readBytes(f[1]!, `validators[${i}].address`, ADDRESS_LENGTH),
      identityKey: readBytes(f[2]!, `validators[${i}].identityKey`, ED25519_PUBLIC_KEY_LENGTH),
      blsKey: readBytes(f[3]!, `validators[${i}].blsKey`, BLS_PUBLIC_KEY_LENGTH),
    };
  });
  return new ValidatorSet(list);
}

export function getValidatorSet(state: StateReader): ValidatorSet | undefined {
  const raw = state.get(VALIDATOR_SET_KEY);
  return raw === undefined ? undefined : decodeValidators(raw);
}

export function putValidatorSet(state: StateOverlay, set: ValidatorSet): void {
  state.set(VALIDATOR_SET_KEY, encodeValidators(set));
}
