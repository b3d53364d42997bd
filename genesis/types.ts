import type { ChainParams } from '../core/params.ts';
import type { RoleJsonName, RoleName } from '../core/roles.ts';
import type { Validator } from '../core/validators.ts';

/**
 * The typed genesis (what the node uses) and the JSON shape of `genesis.json` (what
 * operators write and read). Byte strings are 0x hex in JSON, bytes here; amounts are
 * decimal strings in JSON (they exceed 2^53), bigint here.
 */

export interface GenesisValidator extends Validator {
  /** BLS signature by blsKey over signingBytes(Domain.proofOfPossession, chainId, [blsKey, identityKey]). */
  readonly blsProofOfPossession: Uint8Array;
}

export interface GenesisAccount {
  readonly address: Uint8Array;
  /** Settlement currency, micro-units. */
  readonly balance: bigint;
  /** core/roles.ts names (rolesToBits gives the account record's bits). */
  readonly roles: readonly RoleName[];
}

export interface Genesis {
  readonly chainId: string;
  /** Milliseconds since the Unix epoch; the first block's timestamp must be later. */
  readonly genesisTime: number;
  readonly params: ChainParams;
  /** In file order; genesisValidatorSet() gives the sorted set consensus uses. */
  readonly validators: readonly GenesisValidator[];
  readonly accounts: readonly GenesisAccount[];
  /**
   * Governors (grid operators, regulator, exchange): k of them approve a reversal of a
   * market settlement (vm/markets/reversal.ts). Absent or empty: no settlement can be reversed.
   */
  readonly governors?: readonly Uint8Array[];
  /** k: 1..governors.length; present exactly when governors are. */
  readonly governorThreshold?: number;
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
  settlementIntervalMs: number;
  settlementDelayMs: number;
  maxReadingSkewMs: number;
  meterAccuracyPermille: number;
  missedIntervalsDerate: number;
  missedIntervalsFlag: number;
  derateBps: number;
  gateClosureLeadMs: number;
  priceCap: string;
  askCollateralBps: number;
  underDeliveryPenaltyBps: number;
  overDeliveryPenaltyBps: number;
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
  roles: RoleJsonName[];
}

export interface GenesisJson {
  chainId: string;
  genesisTime: number;
  params: ChainParamsJson;
  validators: GenesisValidatorJson[];
  accounts: GenesisAccountJson[];
  /** bech32 addresses. */
  governors?: string[];
  governorThreshold?: number;
}
