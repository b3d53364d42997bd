import { utf8Text } from '../../core/bytes.ts';
import type { DeviceRecord } from '../../core/device.ts';
import { decodeDeviceHealth, decodeIntervalTotals, type DeviceHealth, type IntervalTotals } from '../../core/meter.ts';
import { bitsToRoles } from '../../core/roles.ts';
import { decodeCertificate, decodeEnergyUtxo, type Certificate, type EnergyUtxo } from '../../core/energy.ts';
import { decodeAgreement, type Agreement } from '../../core/agreement.ts';
import { decodeMarket, decodeSettlement, decodeTrade, type MarketRecord, type Settlement, type Trade } from '../../core/market.ts';
import { decodeGovernorSet, decodeReversal, settlementRefBytes, type GovernorSet, type Reversal } from '../../core/reversal.ts';
import {
  AgreementBucket,
  DeviceBucket,
  EnergyBucket,
  MarketBucket,
  marketKey,
  ReversalBucket,
  reversalBucketKey,
  StatePrefix,
  TelemetryBucket,
} from '../../core/state-keys.ts';
import type { AccountView } from '../../rpc/node-api.ts';
import { decodeAccount } from '../../state/accounts.ts';
import { decodeDevice } from '../../core/device.ts';
import { decodeFlexValue, type FlexStateView } from './state-views-flex.ts';

/** A state value read by a client (e.g. from a proof), decoded by the kind of record its key names. */
export type StateValueView =
  | { readonly kind: 'account'; readonly account: AccountView }
  | { readonly kind: 'device'; readonly device: DeviceRecord }
  | { readonly kind: 'interval-totals'; readonly totals: IntervalTotals }
  | { readonly kind: 'device-health'; readonly deviceId: string; readonly health: DeviceHealth }
  | { readonly kind: 'energy-utxo'; readonly utxo: EnergyUtxo }
  | { readonly kind: 'certificate'; readonly certificate: Certificate }
  | { readonly kind: 'market'; readonly market: MarketRecord }
  | { readonly kind: 'trade'; readonly trade: Trade }
  | { readonly kind: 'settlement'; readonly seq: number; readonly settlement: Settlement }
  | { readonly kind: 'agreement'; readonly agreement: Agreement }
  | FlexStateView
  | { readonly kind: 'governor-set'; readonly governors: GovernorSet }
  | { readonly kind: 'reversal'; readonly reversal: Reversal };

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

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
      return utf8Text(key.subarray(2)) === device.id ? { kind: 'device', device } : undefined;
    }
    if (key[0] === StatePrefix.telemetry && key[1] === TelemetryBucket.totals && key.length >= 3 + key[2]! + 8) {
      // The key names the device and the interval; the record holds neither, so they come from the key.
      const idEnd = 3 + key[2]!;
      const start = Number(new DataView(key.buffer, key.byteOffset + idEnd, 8).getBigUint64(0));
      return { kind: 'interval-totals', totals: decodeIntervalTotals(value, utf8Text(key.subarray(3, idEnd)), start) };
    }
    if (key[0] === StatePrefix.telemetry && key[1] === TelemetryBucket.health) {
      return { kind: 'device-health', deviceId: utf8Text(key.subarray(2)), health: decodeDeviceHealth(value) };
    }
    if (key[0] === StatePrefix.energyUtxo && key[1] === EnergyBucket.utxo) {
      const utxo = decodeEnergyUtxo(value);
      return sameBytes(key.subarray(2), utxo.id) ? { kind: 'energy-utxo', utxo } : undefined;
    }
    if (key[0] === StatePrefix.energyUtxo && key[1] === EnergyBucket.certificate) {
      const certificate = decodeCertificate(value);
      return sameBytes(key.subarray(2), certificate.id) ? { kind: 'certificate', certificate } : undefined;
    }
    if (key[0] === StatePrefix.order) return marketView(key, value);
    if (key[0] === StatePrefix.agreement && key[1] === AgreementBucket.record) {
      const agreement = decodeAgreement(value);
      return sameBytes(key.subarray(2), agreement.id) ? { kind: 'agreement', agreement } : undefined;
    }
    if (key[0] === StatePrefix.flex) return decodeFlexValue(key, value);
    if (key[0] === StatePrefix.reversal) return reversalView(key, value);
  } catch {
    return undefined;
  }
  return undefined;
}

/** A market's record, a trade or a settlement (core/state-keys.ts MarketBucket; M is the market's id, then u32be(seq)). */
function marketView(key: Uint8Array, value: Uint8Array): StateValueView | undefined {
  if (key[1] === MarketBucket.market) {
    const market = decodeMarket(value);
    return sameBytes(key, marketKey(market.zone, market.intervalStartMs)) ? { kind: 'market', market } : undefined;
  }
  const seq = key.length >= 6 ? new DataView(key.buffer, key.byteOffset + key.length - 4, 4).getUint32(0) : -1;
  if (key[1] === MarketBucket.trade) {
    const trade = decodeTrade(value);
    return trade.seq === seq ? { kind: 'trade', trade } : undefined;
  }
  if (key[1] === MarketBucket.settlement && seq >= 0) return { kind: 'settlement', seq, settlement: decodeSettlement(value) };
  return undefined;
}

/** The governors (one record, at a key of its own) or the reversal of one settlement (core/state-keys.ts ReversalBucket). */
function reversalView(key: Uint8Array, value: Uint8Array): StateValueView | undefined {
  if (key[1] === ReversalBucket.governors) return key.length === 2 ? { kind: 'governor-set', governors: decodeGovernorSet(value) } : undefined;
  if (key[1] !== ReversalBucket.bySettlement) return undefined;
  const reversal = decodeReversal(value);
  // The record names its settlement: it must be the one the key names (a seq past u32 would wrap in the key's bytes).
  const named = reversal.seq <= 0xffff_ffff && sameBytes(key, reversalBucketKey(ReversalBucket.bySettlement, settlementRefBytes(reversal)));
  return named ? { kind: 'reversal', reversal } : undefined;
}
