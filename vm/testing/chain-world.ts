/**
 * The world of the whole-VM model-based test (vm/chain.property.test.ts; not used by the
 * node): an energy chain (vm/testing/energy-chain.ts) with four validators, two
 * aggregators, two dsos, an issuer, an oracle, sellers, buyers, a role-less account and
 * three governors (k = 2), and devices in two zones registered by real txs: a solar device
 * checked by a meter, storage, loads the dsos operate. Plus what the ops read from the
 * state to pick their targets (open orders, agreements, bids, UTXOs, settlements, ...).
 */
import { toHex } from '../../core/bytes.ts';
import type { DeviceKind } from '../../core/device.ts';
import type { BlsKeyPair } from '../../core/keys.ts';
import { decodeBookOrder, decodeTrade } from '../../core/market.ts';
import { decodeAgreement, type Agreement } from '../../core/agreement.ts';
import { decodeEnergyUtxo, type EnergyUtxo } from '../../core/energy.ts';
import { AgreementBucket, agreementBucketKey, FlexBucket, flexKey, MarketBucket, marketBucketKey, StatePrefix } from '../../core/state-keys.ts';
import { buildDeviceRegister } from '../../core/tx/device-register.ts';
import type { RoleName } from '../../core/roles.ts';
import type { TestValidator } from '../../consensus/testing/fixtures.ts';
import { bookPrefix } from '../../state/markets.ts';
import { getDevice } from '../../state/devices.ts';
import { UTXO_RECORDS_PREFIX } from '../../state/energy.ts';
import { StateOverlay, type StateReader } from '../../state/overlay.ts';
import { putGovernorSet } from '../../state/reversals.ts';
import { decodeFlexActivation, decodeFlexBid, type FlexActivation, type FlexBid } from '../../core/flex.ts';
import { energyChain, registerBody, testDeviceKey, type EnergyChain } from './energy-chain.ts';
import type { TestKey } from './fixtures.ts';

export const ACCOUNTS: Readonly<Record<string, readonly RoleName[]>> = {
  agg: ['aggregator'],
  agg2: ['aggregator'],
  dso: ['dso'],
  dso2: ['dso'],
  issuer: ['issuer'],
  oracle: ['oracle'],
  s0: [],
  s1: [],
  s2: [],
  b0: [],
  b1: [],
  nobody: [],
};

export interface DeviceSpec {
  readonly id: string;
  readonly kind: DeviceKind;
  readonly owner: string;
  readonly operator: string;
  readonly zone: string;
  readonly checkMeter?: string;
}

/** Registered at genesis, in this order (a check meter before the device it checks). */
export const DEVICES: readonly DeviceSpec[] = [
  { id: 'cm-0', kind: 'meter', owner: 'agg', operator: 'agg', zone: 'NL' },
  { id: 'pv-0', kind: 'solar', owner: 's0', operator: 'agg', zone: 'NL', checkMeter: 'cm-0' },
  { id: 'pv-1', kind: 'solar', owner: 's1', operator: 'agg', zone: 'NL' },
  { id: 'bat-0', kind: 'battery', owner: 's1', operator: 'agg', zone: 'NL' },
  { id: 'ld-0', kind: 'load', owner: 'b0', operator: 'dso', zone: 'NL' },
  { id: 'pv-2', kind: 'solar', owner: 's2', operator: 'agg2', zone: 'DE' },
  { id: 'bat-1', kind: 'battery', owner: 's2', operator: 'agg2', zone: 'DE' },
  { id: 'ld-1', kind: 'load', owner: 'b1', operator: 'dso2', zone: 'DE' },
];
/** Ids the ops may name: the devices above, one registered later by an op, and one never registered. */
export const DEVICE_IDS = [...DEVICES.map((d) => d.id), 'pv-9', 'ghost'];
export const ZONES = ['NL', 'DE'] as const;
export const DEVICE_MAX_W = 1_000_000;

export const ACCOUNT_PREFIX = new Uint8Array([StatePrefix.account]);
const AGREEMENT_RECORDS_PREFIX = agreementBucketKey(AgreementBucket.record);
const FLEX_BIDS_PREFIX = flexKey(FlexBucket.bid);
const FLEX_ACTIVATIONS_PREFIX = flexKey(FlexBucket.activation);
const MARKET_TRADES_PREFIX = marketBucketKey(MarketBucket.trade);

export interface World {
  readonly c: EnergyChain;
  readonly accounts: Readonly<Record<string, TestKey>>;
  readonly validators: readonly TestValidator[];
  /** Every sender the ops choose from: the named accounts, then the validators. */
  readonly senders: readonly (TestKey | TestValidator)[];
  readonly governors: readonly TestValidator[];
  /** BLS keys by public key (hex): device keys the ops made, to sign readings with the key a device has now. */
  readonly deviceKeys: Map<string, BlsKeyPair>;
  /** A fresh device key (never used before) for a registration or a re-key. */
  freshKey(): BlsKeyPair;
  /** The key a device signs with at the next block, if registered and known. */
  keyOf(state: StateReader, id: string): BlsKeyPair | undefined;
}

export const addressOf = (who: TestKey | TestValidator): Uint8Array => ('validator' in who ? who.validator.address : who.address);

export function chainWorld(): World {
  const c = energyChain({ accounts: ACCOUNTS });
  const validators = c.validators;
  const governors = [validators[1]!, validators[2]!, validators[3]!];
  const o = new StateOverlay(c.state);
  putGovernorSet(o, { threshold: 2, governors: governors.map((g) => g.validator.address).sort((a, b) => (toHex(a) < toHex(b) ? -1 : 1)) });
  c.state.apply(o.changes());
  const deviceKeys = new Map<string, BlsKeyPair>();
  let next = 1;
  const freshKey = () => {
    const k = testDeviceKey(next++, 'chain-prop');
    deviceKeys.set(toHex(k.publicKey), k);
    return k;
  };
  const offsets = new Map<string, number>();
  c.block(
    ...DEVICES.map((d) => {
      const operator = c.accounts[d.operator]!;
      const offset = offsets.get(d.operator) ?? 0;
      offsets.set(d.operator, offset + 1);
      return buildDeviceRegister({
        ...c.sender(operator, offset),
        device: registerBody(d.id, freshKey(), c.accounts[d.owner]!.address, {
          kind: d.kind,
          zone: d.zone,
          maxExportW: DEVICE_MAX_W,
          maxImportW: DEVICE_MAX_W,
          checkMeter: d.checkMeter,
        }),
      });
    }),
  );
  return {
    c,
    accounts: c.accounts,
    validators,
    senders: [...Object.keys(ACCOUNTS).map((n) => c.accounts[n]!), ...validators],
    governors,
    deviceKeys,
    freshKey,
    keyOf(state, id) {
      const d = getDevice(state, id);
      const last = d?.keyHistory[d.keyHistory.length - 1];
      return last === undefined ? undefined : deviceKeys.get(toHex(last.key));
    },
  };
}

/** The values under `prefix`, decoded, with the id that follows the prefix in their keys. */
function records<T>(state: StateReader, prefix: Uint8Array, decode: (v: Uint8Array) => T): { id: Uint8Array; value: T }[] {
  return [...state.iterate(prefix)].map(([k, v]) => ({ id: k.subarray(prefix.length), value: decode(v) }));
}

/** What the ops pick their targets from, read from the committed state before a block. */
export interface Targets {
  readonly orders: { id: Uint8Array; owner: Uint8Array }[];
  readonly agreements: { id: Uint8Array; value: Agreement }[];
  readonly bids: { id: Uint8Array; value: FlexBid }[];
  readonly activations: { id: Uint8Array; value: FlexActivation }[];
  readonly utxos: EnergyUtxo[];
  readonly trades: { zone: string; intervalStartMs: number; seq: number; buyer: Uint8Array; seller: Uint8Array }[];
}

export function targets(state: StateReader): Targets {
  const orders = (['bid', 'ask'] as const).flatMap((side) =>
    records(state, bookPrefix(side), decodeBookOrder).map((r) => ({ id: r.id, owner: r.value.owner })),
  );
  const trades = [...state.iterate(MARKET_TRADES_PREFIX)].map(([k, v]) => {
    const m = k.subarray(MARKET_TRADES_PREFIX.length, k.length - 4);
    const t = decodeTrade(v);
    const intervalStartMs = Number(new DataView(m.buffer, m.byteOffset, 8).getBigUint64(0));
    const zone = Buffer.from(m.subarray(9)).toString('latin1');
    return { zone, intervalStartMs, seq: t.seq, buyer: t.buyer, seller: t.seller };
  });
  return {
    orders,
    agreements: records(state, AGREEMENT_RECORDS_PREFIX, decodeAgreement),
    bids: records(state, FLEX_BIDS_PREFIX, decodeFlexBid),
    activations: records(state, FLEX_ACTIVATIONS_PREFIX, decodeFlexActivation),
    utxos: [...state.iterate(UTXO_RECORDS_PREFIX)].map(([, v]) => decodeEnergyUtxo(v)),
    trades,
  };
}
