/**
 * Telemetry for tests of the energy ledger (not used by the node): readings at block time,
 * signed by their devices with blst, aggregated into telemetry-batch txs.
 */
import { blsAggregateSignatures, blsSign, type BlsKeyPair } from '../../core/keys.ts';
import { readingSigningBytes, type Reading } from '../../core/telemetry.ts';
import { buildTelemetryBatch } from '../../core/tx/telemetry-batch.ts';
import type { Tx } from '../../core/tx.ts';
import { ENERGY_CHAIN_ID, type EnergyChain } from './energy-chain.ts';
import type { TestKey } from './fixtures.ts';

/** A reading of `deviceId` at `timestampMs` (plus `extraUs`), of `wh` (+ import, - export). */
export function reading(deviceId: string, timestampMs: number, wh: bigint | number, extraUs = 0): Reading {
  return { deviceId, timestampUs: BigInt(timestampMs) * 1000n + BigInt(extraUs), netEnergyWh: BigInt(wh), stateOfChargePercent: 0 };
}

export function signReadingBlst(key: BlsKeyPair, r: Reading, chainId = ENERGY_CHAIN_ID): Uint8Array {
  return blsSign(key.secretKey, readingSigningBytes(chainId, r));
}

export interface BatchOptions {
  /** Default: the chain's next height. */
  readonly keyHeight?: number;
  /** Nonce offset, for a second tx of one sender in one block. */
  readonly offset?: number;
  /** Readings whose signature is made by this key instead of their device's. */
  readonly signers?: ReadonlyMap<number, BlsKeyPair>;
  /** Readings whose signature covers another message (a spoiled signature). */
  readonly spoil?: readonly number[];
}

/** A telemetry batch of `readings`, each signed with `keyOf(deviceId)`, sent by `sender`. */
export function batchTx(c: EnergyChain, sender: TestKey, readings: readonly Reading[], keyOf: (deviceId: string) => BlsKeyPair, opts: BatchOptions = {}): Tx {
  const signatures = readings.map((r, i) => {
    const key = opts.signers?.get(i) ?? keyOf(r.deviceId);
    const signed = opts.spoil?.includes(i) === true ? { ...r, netEnergyWh: r.netEnergyWh + 1n } : r;
    return signReadingBlst(key, signed);
  });
  return buildTelemetryBatch({
    ...c.sender(sender, opts.offset ?? 0),
    keyHeight: opts.keyHeight ?? c.height,
    readings,
    signature: blsAggregateSignatures(signatures),
  });
}
