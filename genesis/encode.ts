import { compareBytes, toHex } from '../core/bytes.ts';
import { encode, type Encodable } from '../core/codec.ts';
import { sha256 } from '../core/hash.ts';
import { formatAddress } from '../core/keys.ts';
import { ValidatorSet } from '../core/validators.ts';
import { paramsToJson, paramsToWire } from './params.ts';
import { ROLE_NAMES, ROLE_TO_JSON } from '../core/roles.ts';
import type { Genesis, GenesisJson } from './types.ts';

/** Version tag in the hashed encoding, so a future genesis format can never collide. */
const GENESIS_TAG = 'JOULE/genesis/v1';

/**
 * Canonical encoding of a genesis: independent of JSON formatting, field order and the
 * order of validators and accounts (both sorted by address; roles in a fixed order), so
 * two operators holding the same content compute the same chain identity.
 * [tag, chainId, genesisTime, params, [[address, name, identityKey, blsKey, pop]...],
 *  [[address, balance, [role...]]...], and when governors are named [[governor...], k]]
 */
export function genesisToWire(g: Genesis): Encodable {
  const validators = [...g.validators].sort((a, b) => compareBytes(a.address, b.address));
  const accounts = [...g.accounts].sort((a, b) => compareBytes(a.address, b.address));
  return [
    GENESIS_TAG,
    g.chainId,
    g.genesisTime,
    paramsToWire(g.params),
    validators.map((v) => [v.address, v.name, v.identityKey, v.blsKey, v.blsProofOfPossession]),
    accounts.map((a) => [a.address, a.balance, ROLE_NAMES.filter((r) => a.roles.includes(r))]),
    // Governors only when named, so a genesis without them keeps the identity it had before they existed.
    ...(g.governors === undefined || g.governors.length === 0 ? [] : [[[...g.governors].sort(compareBytes), g.governorThreshold ?? 0]]),
  ];
}

/** SHA-256 of the canonical encoding: the chain's identity (nodes refuse peers with another). */
export function genesisHash(g: Genesis): Uint8Array {
  return sha256(encode(genesisToWire(g)));
}

/** The validator set at height 1 (sorted by address, as consensus indexes it). */
export function genesisValidatorSet(g: Genesis): ValidatorSet {
  return new ValidatorSet(g.validators.map((v) => ({ name: v.name, address: v.address, identityKey: v.identityKey, blsKey: v.blsKey })));
}

const hex = (b: Uint8Array): string => `0x${toHex(b)}`;

/** The JSON form written to genesis.json (parseGenesis(genesisToJson(g)) equals g). */
export function genesisToJson(g: Genesis): GenesisJson {
  return {
    chainId: g.chainId,
    genesisTime: g.genesisTime,
    params: paramsToJson(g.params),
    validators: g.validators.map((v) => ({
      name: v.name,
      address: formatAddress(v.address),
      identityKey: hex(v.identityKey),
      blsKey: hex(v.blsKey),
      blsProofOfPossession: hex(v.blsProofOfPossession),
    })),
    accounts: g.accounts.map((a) => ({
      address: formatAddress(a.address),
      balance: a.balance.toString(),
      roles: a.roles.map((r) => ROLE_TO_JSON[r]),
    })),
    ...(g.governors === undefined || g.governors.length === 0 ? {} : { governors: g.governors.map(formatAddress), governorThreshold: g.governorThreshold }),
  };
}
