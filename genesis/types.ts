import type { ChainParams } from '../core/params.ts';
import type { Validator } from '../core/validators.ts';

/**
 * The typed genesis (what the node uses) and the JSON shape of `genesis.json` (what
 * operators write and read). Byte strings are 0x hex in JSON, bytes here; amounts are
 * decimal strings in JSON (they exceed 2^53), bigint here.
 */

/** Account roles as spelled in genesis.json (kebab-case, like the rest of the CLI). */
export const GENESIS_ROLES = ['dso', 'aggregator', 'market-operator', 'validator', 'issuer'] as const;
export type GenesisRole = (typeof GENESIS_ROLES)[number];

/** Same roles as state/accounts.ts RoleName (kept structural: genesis/ imports only core/). */
export type AccountRole = 'dso' | 'aggregator' | 'marketOperator' | 'validator' | 'issuer';

export const ROLE_FROM_JSON: Readonly<Record<GenesisRole, AccountRole>> = {
  dso: 'dso',
  aggregator: 'aggregator',
  'market-operator': 'marketOperator',
  validator: 'validator',
  issuer: 'issuer',
};

export const ROLE_TO_JSON: Readonly<Record<AccountRole, GenesisRole>> = {
  dso: 'dso',
  aggregator: 'aggregator',
  marketOperator: 'market-operator',
  validator: 'validator',
  issuer: 'issuer',
};

export interface GenesisValidator extends Validator {
  /** BLS signature by blsKey over signingBytes(Domain.proofOfPossession, chainId, [blsKey, identityKey]). */
  readonly blsProofOfPossession: Uint8Array;
}

export interface GenesisAccount {
  readonly address: Uint8Array;
  /** Settlement currency, micro-units. */
  readonly balance: bigint;
  /** Role names as in state/accounts.ts (use rolesToBits there). */
  readonly roles: readonly AccountRole[];
}

export interface Genesis {
  readonly chainId: string;
  /** Milliseconds since the Unix epoch; the first block's timestamp must be later. */
  readonly genesisTime: number;
  readonly params: ChainParams;
  /** In file order; genesisValidatorSet() gives the sorted set consensus uses. */
  readonly validators: readonly GenesisValidator[];
  readonly accounts: readonly GenesisAccount[];
}

export interface GenesisProblem {
  /** JSON path of the offending value, e.g. `validators[2].blsKey`; `$` is the whole file. */
  readonly path: string;
  readonly message: string;
}

// ---------------- JSON shape ----------------

export interface TierParamsJson {
  name: string;
  priorityMultiplierBps: number;
  baseFee: string;
  minBlockShareBps: number;
}

export interface ChainParamsJson {
  blockPeriodMs: number;
  emptyBlockPeriodMs: number;
  requestTimeoutMs: number;
  maxBlockTxs: number;
  maxBlockBytes: number;
  maxTxBytes: number;
  maxClockDriftMs: number;
  minFee: string;
  tiers: TierParamsJson[];
}

export interface GenesisValidatorJson {
  name: string;
  address: string;
  identityKey: string;
  blsKey: string;
  blsProofOfPossession: string;
}

export interface GenesisAccountJson {
  address: string;
  balance: string;
  roles: GenesisRole[];
}

export interface GenesisJson {
  chainId: string;
  genesisTime: number;
  params: ChainParamsJson;
  validators: GenesisValidatorJson[];
  accounts: GenesisAccountJson[];
}
