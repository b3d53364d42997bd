/**
 * Deterministic keys, genesis and chains for the fuzz targets: the same in every process,
 * so that a saved input (a signed tx, a sealed block) means the same thing when it is
 * replayed in a fresh one.
 */
import { join } from 'node:path';
import { utf8 } from '../../core/bytes.ts';
import { sha256 } from '../../core/hash.ts';
import { addressFromPublicKey, blsFromSecret, ed25519FromSeed, type BlsKeyPair, type Ed25519KeyPair } from '../../core/keys.ts';
import { DEFAULT_PARAMS } from '../../core/params.ts';
import { signProofOfPossession } from '../../core/pop.ts';
import { genesisHash, type Genesis } from '../../genesis/index.ts';
import { Chain } from '../../node/chain/chain.ts';
import { SameThreadVerifier } from '../../node/verify/same-thread.ts';
import { VerifiedTxs } from '../../node/verify/verified-txs.ts';

export const FUZZ_CHAIN_ID = 'joule-fuzz';
export const FUZZ_GENESIS_TIME = 1_700_000_000_000;

export interface FuzzValidatorKeys {
  readonly name: string;
  readonly identity: Ed25519KeyPair;
  readonly consensus: BlsKeyPair;
  readonly address: Uint8Array;
}

/** Ed25519 key number `i` of `label`. */
export function fuzzEd25519(label: string, i: number): Ed25519KeyPair {
  return ed25519FromSeed(sha256(utf8(`fuzz-ed25519:${label}:${i}`)));
}

/** BLS key number `i` of `label`. */
export function fuzzBls(label: string, i: number): BlsKeyPair {
  const secret = sha256(utf8(`fuzz-bls:${label}:${i}`));
  secret[0] = 0x11; // below the BLS12-381 group order
  return blsFromSecret(secret);
}

export function fuzzValidator(i: number, label = 'validator'): FuzzValidatorKeys {
  const identity = fuzzEd25519(label, i);
  return { name: `${label}-${i}`, identity, consensus: fuzzBls(label, i), address: addressFromPublicKey(identity.publicKey) };
}

export interface FuzzNetwork {
  readonly genesis: Genesis;
  readonly validators: readonly FuzzValidatorKeys[];
  readonly accounts: readonly Ed25519KeyPair[];
}

/** A genesis of `validators` validators and `accounts` funded accounts (account 0 holds the operator roles). */
export function fuzzNetwork(validators: number, accounts: number, chainId = FUZZ_CHAIN_ID): FuzzNetwork {
  const vs = Array.from({ length: validators }, (_, i) => fuzzValidator(i));
  const as = Array.from({ length: accounts }, (_, j) => fuzzEd25519('account', j));
  const balance = 1_000_000_000_000n;
  const genesis: Genesis = {
    chainId,
    genesisTime: FUZZ_GENESIS_TIME,
    params: DEFAULT_PARAMS,
    validators: vs.map((v) => ({
      name: v.name,
      address: v.address,
      identityKey: v.identity.publicKey,
      blsKey: v.consensus.publicKey,
      blsProofOfPossession: signProofOfPossession(chainId, v.consensus.secretKey, v.consensus.publicKey, v.identity.publicKey),
    })),
    accounts: [
      ...vs.map((v) => ({ address: v.address, balance, roles: ['validator' as const] })),
      ...as.map((a, j) => ({
        address: addressFromPublicKey(a.publicKey),
        balance,
        roles: j === 0 ? (['dso', 'aggregator', 'marketOperator', 'issuer'] as const) : [],
      })),
    ],
  };
  return { genesis, validators: vs, accounts: as };
}

/** A chain of `network` in `dir`, verifying signatures on this thread (the verdicts of the worker pool, without threads). */
export async function openFuzzChain(dir: string, network: FuzzNetwork): Promise<Chain> {
  return Chain.open(join(dir, 'data'), network.genesis, genesisHash(network.genesis), {
    signatures: { service: new SameThreadVerifier(), verifiedTxs: new VerifiedTxs(10_000) },
  });
}
