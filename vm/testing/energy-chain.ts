/**
 * A small chain for tests of the energy ledger's handlers (not used by the node): a
 * validator set in state, funded accounts with roles, devices with deterministic BLS
 * keys, and blocks executed strictly (every signature verified) on a MemoryState.
 */
import { utf8 } from '../../core/bytes.ts';
import type { DeviceKind } from '../../core/device.ts';
import { sha256 } from '../../core/hash.ts';
import { blsFromSecret, type BlsKeyPair } from '../../core/keys.ts';
import { DEVNET_PARAMS, type ChainParams } from '../../core/params.ts';
import { signDeviceProofOfPossession } from '../../core/pop.ts';
import { rolesToBits, type RoleName } from '../../core/roles.ts';
import type { SenderArgs } from '../../core/tx/sign.ts';
import { buildDeviceRegister, type DeviceRegisterBody } from '../../core/tx/device-register.ts';
import type { Tx } from '../../core/tx.ts';
import { testValidators, type TestValidator } from '../../consensus/testing/fixtures.ts';
import { getAccount } from '../../state/accounts.ts';
import { putSupply } from '../../state/supply.ts';
import { StateOverlay } from '../../state/overlay.ts';
import { putValidatorSet } from '../../state/validator-set.ts';
import { executeBlock } from '../executor.ts';
import type { BlockContext, BlockResult } from '../types.ts';
import { checkTx } from '../validity.ts';
import { MemoryState, testKey, type TestKey } from './fixtures.ts';

export const ENERGY_CHAIN_ID = 'joule-test';

/** Deterministic device key number `i` (a valid BLS scalar). */
export function testDeviceKey(i: number, label = 'device'): BlsKeyPair {
  const secret = sha256(utf8(`bls:${label}/${i}`));
  secret[0] = 0x11; // below the group order
  return blsFromSecret(secret);
}

export function devicePop(key: BlsKeyPair, chainId = ENERGY_CHAIN_ID): Uint8Array {
  return signDeviceProofOfPossession(chainId, key.secretKey, key.publicKey);
}

/** A register body for device `id` with key `key`; limits and zone overridable. */
export function registerBody(id: string, key: BlsKeyPair, owner: Uint8Array, more: Partial<DeviceRegisterBody> = {}): DeviceRegisterBody {
  const kind: DeviceKind = 'solar';
  return {
    id,
    publicKey: key.publicKey,
    proofOfPossession: devicePop(key),
    owner,
    kind,
    zone: 'NL',
    maxImportW: 5_000,
    maxExportW: 10_000,
    carbonIntensity: 30,
    checkMeter: undefined,
    ...more,
  };
}

export interface EnergyChain {
  readonly state: MemoryState;
  readonly validators: TestValidator[];
  /** Accounts by name with the roles given to `energyChain`. */
  readonly accounts: Readonly<Record<string, TestKey>>;
  height: number;
  /**
   * Sender args (chain, seed, nonce, fee) for `who`, a test key or a validator: the nonce
   * is the account's in state plus `offset` (for a second tx of one sender in one block).
   */
  sender(who: TestKey | TestValidator, offset?: number): SenderArgs;
  ctx(): BlockContext;
  /** The next block's timestamp, ms (blockPeriodMs per height from the start, plus what `advance` added). */
  now(): number;
  /** Moves the clock of the blocks to come forward by `ms`. */
  advance(ms: number): void;
  /** Admission check of `tx` on the current state (a future nonce allowed). */
  check(tx: Tx): void;
  /** Executes and commits a block (strict: an invalid tx throws BLOCK_INVALID). */
  block(...txs: Tx[]): BlockResult;
  /** Registers `id` (operator `operator`) in a block of its own. */
  register(operator: TestKey, id: string, key: BlsKeyPair, more?: Partial<DeviceRegisterBody>): BlockResult;
}

export function energyChain(opts: {
  readonly validators?: number;
  readonly accounts: Readonly<Record<string, readonly RoleName[]>>;
  readonly params?: ChainParams;
  readonly startTimeMs?: number;
}): EnergyChain {
  const { keys, set } = testValidators(opts.validators ?? 4);
  const state = new MemoryState();
  const o = new StateOverlay(state);
  putValidatorSet(o, set);
  state.apply(o.changes());
  for (const k of keys) state.setAccount(k.validator.address, { balance: 1_000_000_000n, roles: rolesToBits(['validator']) });
  const accounts: Record<string, TestKey> = {};
  Object.entries(opts.accounts).forEach(([name, roles], i) => {
    const k = testKey(i, `energy-chain/${name}`);
    accounts[name] = k;
    state.setAccount(k.address, { balance: 1_000_000_000n, roles: rolesToBits(roles) });
  });
  // The total supply, as genesis writes it (state/supply.ts): every account above holds 10^9.
  const supply = new StateOverlay(state);
  putSupply(supply, BigInt(keys.length + Object.keys(accounts).length) * 1_000_000_000n);
  state.apply(supply.changes());
  const params = opts.params ?? DEVNET_PARAMS;
  const start = opts.startTimeMs ?? 1_700_000_000_000;
  let skipped = 0;
  const chain: EnergyChain = {
    state,
    validators: keys,
    accounts,
    height: 1,
    sender(who, offset = 0) {
      const address = 'validator' in who ? who.validator.address : who.address;
      return { chainId: ENERGY_CHAIN_ID, seed: who.seed, nonce: getAccount(state, address).nonce + offset, fee: 25n };
    },
    now: () => start + chain.height * params.blockPeriodMs + skipped,
    advance(ms) {
      skipped += ms;
    },
    ctx: () => ({ chainId: ENERGY_CHAIN_ID, params, height: chain.height, timestamp: chain.now(), proposer: keys[0]!.validator.address }),
    check: (tx) => checkTx(state, tx, chain.ctx(), { allowFutureNonce: true }),
    block(...txs) {
      const r = executeBlock(state, txs, chain.ctx());
      state.apply(r.changes);
      chain.height++;
      return r;
    },
    register: (operator, id, key, more) =>
      chain.block(buildDeviceRegister({ ...chain.sender(operator), device: registerBody(id, key, operator.address, more) })),
  };
  return chain;
}
