import { ErrorCode, JouleError } from '../core/errors.ts';
import { addressFromPublicKey, blsGenerate, ed25519Generate, type BlsKeyPair, type Ed25519KeyPair } from '../core/keys.ts';
import { DEVNET_PARAMS, type ChainParams } from '../core/params.ts';
import { signProofOfPossession } from '../core/pop.ts';
import type { RoleName } from '../core/roles.ts';
import type { Genesis, GenesisAccount, GenesisValidator } from './types.ts';
import { checkGenesis, MAX_VALIDATORS } from './validate.ts';
import { genesisToJson } from './encode.ts';
import { MAX_GOVERNORS } from '../core/reversal.ts';

export interface DevnetOptions {
  readonly chainId?: string;
  readonly validators: number;
  readonly accounts: number;
  /** Balance of every generated account (and validator account), micro-units. */
  readonly balance?: bigint;
  /** Milliseconds; defaults to now. */
  readonly genesisTime?: number;
  readonly params?: ChainParams;
  /**
   * Give each validator an aggregator account (`validator-<i>-aggregator`, funded, with the
   * aggregator and dso roles): its node batches the readings of the devices it operates
   * (node/ingress/), and as their dso it may command them (node/commands/: a command's
   * issuer must operate its targets, and a stream is served by the operator's node).
   */
  readonly aggregators?: boolean;
  /**
   * Governor accounts `governor-<i>` (funded, no roles), named in genesis with threshold
   * min(2, n): k of them reverse a market settlement (vm/markets/reversal.ts). Default 0.
   */
  readonly governors?: number;
}

export interface DevnetValidatorKeys {
  readonly name: string;
  readonly identity: Ed25519KeyPair;
  readonly consensus: BlsKeyPair;
}

export interface DevnetAccountKeys {
  readonly name: string;
  readonly keyPair: Ed25519KeyPair;
}

export interface Devnet {
  readonly genesis: Genesis;
  readonly validatorKeys: readonly DevnetValidatorKeys[];
  readonly accountKeys: readonly DevnetAccountKeys[];
  /** Per validator, in order, its aggregator account (empty unless asked for). */
  readonly aggregatorKeys: readonly DevnetAccountKeys[];
  /** The governors' accounts, in order (empty unless asked for). */
  readonly governorKeys?: readonly DevnetAccountKeys[];
}

export const DEFAULT_DEVNET_CHAIN_ID = 'joule-devnet';
/** 1,000,000 units of the settlement currency in micro-units. */
export const MAX_DEVNET_ACCOUNTS = 100_000;
export const DEFAULT_DEVNET_BALANCE = 1_000_000_000_000n;
/**
 * account-0 is the devnet's operator: it holds every non-validator role so the later
 * issues' devnets can register devices, run markets and issue certificates from it.
 */
const OPERATOR_ROLES: readonly RoleName[] = ['dso', 'aggregator', 'marketOperator', 'issuer', 'oracle'];

/**
 * Fresh keys and a genesis for a local devnet: validators `validator-<i>` (Ed25519
 * identity + BLS consensus key with its proof of possession, and a funded account with
 * the validator role so it can pay for votes), accounts `account-<j>`.
 */
export function generateDevnet(opts: DevnetOptions): Devnet {
  const chainId = opts.chainId ?? DEFAULT_DEVNET_CHAIN_ID;
  const balance = opts.balance ?? DEFAULT_DEVNET_BALANCE;
  if (!Number.isSafeInteger(opts.validators) || opts.validators < 1 || opts.validators > MAX_VALIDATORS) {
    throw new JouleError(ErrorCode.GENESIS_INVALID, `must be an integer between 1 and ${MAX_VALIDATORS}`, 'validators');
  }
  if (!Number.isSafeInteger(opts.accounts) || opts.accounts < 0 || opts.accounts > MAX_DEVNET_ACCOUNTS) {
    throw new JouleError(ErrorCode.GENESIS_INVALID, `must be an integer between 0 and ${MAX_DEVNET_ACCOUNTS}`, 'accounts');
  }

  const validatorKeys: DevnetValidatorKeys[] = [];
  const validators: GenesisValidator[] = [];
  const accounts: GenesisAccount[] = [];
  for (let i = 0; i < opts.validators; i++) {
    const name = `validator-${i}`;
    const identity = ed25519Generate();
    const consensus = blsGenerate();
    const address = addressFromPublicKey(identity.publicKey);
    validatorKeys.push({ name, identity, consensus });
    validators.push({
      name,
      address,
      identityKey: identity.publicKey,
      blsKey: consensus.publicKey,
      blsProofOfPossession: signProofOfPossession(chainId, consensus.secretKey, consensus.publicKey, identity.publicKey),
    });
    accounts.push({ address, balance, roles: ['validator'] });
  }
  const accountKeys: DevnetAccountKeys[] = [];
  for (let j = 0; j < opts.accounts; j++) {
    const keyPair = ed25519Generate();
    accountKeys.push({ name: `account-${j}`, keyPair });
    accounts.push({ address: addressFromPublicKey(keyPair.publicKey), balance, roles: j === 0 ? OPERATOR_ROLES : [] });
  }
  const aggregatorKeys: DevnetAccountKeys[] = [];
  if (opts.aggregators === true) {
    for (const v of validatorKeys) {
      const keyPair = ed25519Generate();
      aggregatorKeys.push({ name: `${v.name}-aggregator`, keyPair });
      accounts.push({ address: addressFromPublicKey(keyPair.publicKey), balance, roles: ['aggregator', 'dso'] });
    }
  }
  const governors = opts.governors ?? 0;
  if (!Number.isSafeInteger(governors) || governors < 0 || governors > MAX_GOVERNORS) {
    throw new JouleError(ErrorCode.GENESIS_INVALID, `must be an integer between 0 and ${MAX_GOVERNORS}`, 'governors');
  }
  const governorKeys: DevnetAccountKeys[] = [];
  for (let i = 0; i < governors; i++) {
    const keyPair = ed25519Generate();
    governorKeys.push({ name: `governor-${i}`, keyPair });
    accounts.push({ address: addressFromPublicKey(keyPair.publicKey), balance, roles: [] });
  }
  const genesis: Genesis = {
    chainId,
    genesisTime: opts.genesisTime ?? Date.now(),
    params: opts.params ?? DEVNET_PARAMS,
    validators,
    accounts,
    ...(governors === 0 ? {} : { governors: governorKeys.map((g) => addressFromPublicKey(g.keyPair.publicKey)), governorThreshold: Math.min(2, governors) }),
  };
  // Same rules as any genesis (bad chain id, overflowing balances...): fail here, not at node start.
  const { problems } = checkGenesis(genesisToJson(genesis));
  const first = problems[0];
  if (first !== undefined) throw new JouleError(ErrorCode.GENESIS_INVALID, first.message, first.path);
  return { genesis, validatorKeys, accountKeys, aggregatorKeys, governorKeys };
}
