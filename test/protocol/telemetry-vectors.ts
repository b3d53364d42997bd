import { encode, type Encodable } from '../../core/codec.ts';
import { mintedUtxoId } from '../../core/energy.ts';
import { ErrorCode } from '../../core/errors.ts';
import { blsAggregateSignatures, blsSign } from '../../core/keys.ts';
import { openInterval, type IntervalTotals } from '../../core/meter.ts';
import { DEFAULT_PARAMS } from '../../core/params.ts';
import { readingSigningBytes, type Reading } from '../../core/telemetry.ts';
import {
  buildCheckMeterResolution,
  CHECK_METER_RESOLUTIONS,
  decodeCheckMeterResolutionBody,
  encodeCheckMeterResolutionBody,
} from '../../core/tx/check-meter-resolution.ts';
import { buildTelemetryBatch, decodeTelemetryBatchBody, encodeTelemetryBatchBody } from '../../core/tx/telemetry-batch.ts';
import { TxType } from '../../core/tx/types.ts';
import { putUtxo } from '../../state/energy.ts';
import type { StateOverlay } from '../../state/overlay.ts';
import { putIntervalTotals } from '../../state/telemetry.ts';
import { DEVICE_KEYS, type DeviceContext } from './device-vectors.ts';
import { type Fields, type InvalidTxVector, invalid, tx } from './invalid-tx-builder.ts';
import { hex } from './notation.ts';
import type { ValidTxVector } from './valid-txs.ts';
import { KEYS, VECTOR_CHAIN_ID, type VectorKey } from './vector-keys.ts';

/**
 * Telemetry's part of the vector file: the block the context's chain checks transactions
 * for (telemetry rules depend on its height and time), an interval of meter-0001 frozen by
 * its check meter, the fixed-layout signing bytes of a reading (not the canonical
 * encoding: `telemetry`), and valid and one-defect invalid transactions of types 20 and 27.
 */

/** The next block of the context's chain: 5 minutes into a 15-minute interval (production parameters). */
export const CONTEXT_BLOCK = { height: 10, timestampMs: 1_700_000_400_000 } as const;
const INTERVAL = DEFAULT_PARAMS.settlementIntervalMs;
/** The interval before the block's, settled and frozen. */
const FROZEN_START = Math.floor(CONTEXT_BLOCK.timestampMs / INTERVAL) * INTERVAL - INTERVAL;

export interface FrozenIntervalContext {
  deviceId: string;
  intervalStartMs: number;
  readings: number;
  importWh: string;
  exportWh: string;
  check: { deviceId: string; readings: number; importWh: string; exportWh: string };
  /** The frozen energy UTXO minted at its close (id = mintedUtxoId(deviceId, intervalStartMs)). */
  mintedWh: string;
  mintedAtHeight: number;
}

export function contextFrozenIntervals(): FrozenIntervalContext[] {
  return [
    {
      deviceId: 'meter-0001',
      intervalStartMs: FROZEN_START,
      readings: 90,
      importWh: '0',
      exportWh: '2000',
      check: { deviceId: 'meter-0001-check', readings: 90, importWh: '0', exportWh: '2100' },
      mintedWh: '2000',
      mintedAtHeight: 8,
    },
  ];
}

/** Writes a frozen interval (its totals and its frozen UTXO) the way the interval close left it. */
export function putFrozenInterval(state: StateOverlay, f: FrozenIntervalContext, device: DeviceContext, owner: Uint8Array): void {
  const id = mintedUtxoId(f.deviceId, f.intervalStartMs);
  const totals: IntervalTotals = {
    ...openInterval(f.deviceId, f.intervalStartMs),
    readings: f.readings,
    importWh: BigInt(f.importWh),
    exportWh: BigInt(f.exportWh),
    status: 'frozen',
    mintedWh: BigInt(f.mintedWh),
    utxoId: id,
    check: { deviceId: f.check.deviceId, readings: f.check.readings, importWh: BigInt(f.check.importWh), exportWh: BigInt(f.check.exportWh) },
  };
  putIntervalTotals(state, totals);
  putUtxo(state, {
    id,
    owner,
    wh: BigInt(f.mintedWh),
    provenance: {
      deviceId: f.deviceId,
      kind: device.kind as 'meter',
      zone: device.zone,
      intervalStartMs: f.intervalStartMs,
      intervalEndMs: f.intervalStartMs + INTERVAL,
      carbonIntensity: device.carbonIntensity,
    },
    frozen: true,
    height: f.mintedAtHeight,
  });
}

/** A reading's signing bytes and the device's signature of them. */
export interface TelemetrySigningVector {
  name: string;
  /** Name of the device key (in `deviceKeys`) that signs. */
  signer: string;
  chainId: string;
  deviceId: string;
  timestampUs: string;
  netEnergyWh: string;
  /** u16be(len tag) || tag || u16be(len chainId) || chainId || u16be(len deviceId) || deviceId || i64be(timestampUs) || i64be(netEnergyWh) */
  payload: string;
  signature: string;
}

const T_US = BigInt(CONTEXT_BLOCK.timestampMs) * 1000n;
const reading = (dMs: number, wh: bigint, deviceId = 'meter-0001', soc = 0): Reading => ({
  deviceId,
  timestampUs: T_US + BigInt(dMs) * 1000n,
  netEnergyWh: wh,
  stateOfChargePercent: soc,
});
const READINGS: readonly Reading[] = [reading(-4000, -12n), reading(-2000, -11n), reading(-1, 3n)];

export function telemetrySigningVectors(): TelemetrySigningVector[] {
  const k = DEVICE_KEYS.meter;
  return READINGS.slice(0, 1).map((r) => ({
    name: 'reading',
    signer: k.name,
    chainId: VECTOR_CHAIN_ID,
    deviceId: r.deviceId,
    timestampUs: r.timestampUs.toString(),
    netEnergyWh: r.netEnergyWh.toString(),
    payload: hex(readingSigningBytes(VECTOR_CHAIN_ID, r)),
    signature: hex(blsSign(k.secretKey, readingSigningBytes(VECTOR_CHAIN_ID, r))),
  }));
}

/** The aggregate of meter-0001's signatures of `readings` (`altered`: those signed after their energy was changed). */
function aggregate(readings: readonly Reading[], altered: readonly number[] = []): Uint8Array {
  return blsAggregateSignatures(
    readings.map((r, i) =>
      blsSign(DEVICE_KEYS.meter.secretKey, readingSigningBytes(VECTOR_CHAIN_ID, altered.includes(i) ? { ...r, netEnergyWh: r.netEnergyWh + 1n } : r)),
    ),
  );
}

const readingFields = (r: Reading) => ({
  deviceId: r.deviceId,
  timestampUs: r.timestampUs.toString(),
  netEnergyWh: r.netEnergyWh.toString(),
  stateOfChargePercent: r.stateOfChargePercent,
});

type Vector = (name: string, description: string, signer: VectorKey, t: ReturnType<typeof buildTelemetryBatch>, body: Record<string, unknown>) => ValidTxVector;

export function validTelemetryTxVectors(vector: Vector): ValidTxVector[] {
  const { aggregator, north } = KEYS;
  const from = (k: VectorKey, nonce: number, fee: bigint) => ({ chainId: VECTOR_CHAIN_ID, seed: k.seed, nonce, fee });
  const signature = aggregate(READINGS);
  return [
    vector(
      'telemetry-batch',
      'aggregator-two submits three readings of meter-0001 (4 s, 2 s and 1 ms before the block), signed by the device with its key at height 10, under their aggregate',
      aggregator,
      buildTelemetryBatch({ ...from(aggregator, 4, 25n), keyHeight: CONTEXT_BLOCK.height, readings: READINGS, signature }),
      { keyHeight: CONTEXT_BLOCK.height, readings: READINGS.map(readingFields), signature: hex(signature) },
    ),
    vector(
      'check-meter-resolution',
      "dso-north resolves meter-0001's frozen interval: 2,050 Wh, between the device's 2,000 and the check meter's 2,100",
      north,
      buildCheckMeterResolution({ ...from(north, 3, 10n), deviceId: 'meter-0001', intervalStartMs: FROZEN_START, resolution: 'value', valueWh: 2050n }),
      { deviceId: 'meter-0001', intervalStartMs: FROZEN_START, resolution: 2, valueWh: '2050' },
    ),
  ];
}

const wire = (r: Reading): Encodable[] => [r.deviceId, r.timestampUs, r.netEnergyWh, r.stateOfChargePercent];
const fields = (type: number, sender: VectorKey, body: Encodable[]): Fields => ({
  chainId: VECTOR_CHAIN_ID,
  type,
  sender: sender.publicKey,
  nonce: 0,
  fee: 25n,
  body: encode(body),
});
const batch = (sender: VectorKey, readings: readonly Reading[], over: { keyHeight?: number; signature?: Uint8Array } = {}) =>
  tx(fields(TxType.telemetryBatch, sender, [over.keyHeight ?? CONTEXT_BLOCK.height, readings.map(wire), over.signature ?? aggregate(readings)]), {}, sender);

export function invalidTelemetryTxVectors(): InvalidTxVector[] {
  const { aggregator, alice, north } = KEYS;
  const at = (i: number, f: string) => `tx.body.readings[${i}].${f}`;
  const resolution = (sender: VectorKey, start: number, resolutionId: number, value: bigint | null) =>
    tx(fields(TxType.checkMeterResolution, sender, ['meter-0001', start, resolutionId, value]), {}, sender);
  return [
    invalid(
      'telemetry-unknown-device',
      'validateTx',
      ErrorCode.DEVICE_UNKNOWN,
      at(1, 'deviceId'),
      'the second reading is of meter-0009, which is not registered',
      batch(aggregator, [READINGS[0]!, reading(-1000, -1n, 'meter-0009')]),
    ),
    invalid(
      'telemetry-device-of-another-operator',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      at(0, 'deviceId'),
      'dso-north (a dso) submits readings of meter-0001, which aggregator-two operates',
      batch(north, READINGS),
    ),
    invalid(
      'telemetry-without-role',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.sender',
      'alice holds neither the aggregator nor the dso role',
      batch(alice, READINGS),
    ),
    invalid(
      'telemetry-out-of-order',
      'validateTx',
      ErrorCode.TELEMETRY_OUT_OF_ORDER,
      at(1, 'timestampUs'),
      "meter-0001's second reading is older than its first",
      batch(aggregator, [READINGS[1]!, READINGS[0]!]),
    ),
    invalid(
      'telemetry-beyond-skew',
      'validateTx',
      ErrorCode.TELEMETRY_SKEW,
      at(0, 'timestampUs'),
      "a reading 61 s after the block's time (maxReadingSkewMs 60,000)",
      batch(aggregator, [reading(61_000, -1n)]),
    ),
    invalid(
      'telemetry-key-height-0',
      'validateTx',
      ErrorCode.TELEMETRY_KEY_ROTATED,
      at(0, 'deviceId'),
      'keys at height 0: meter-0001 had no key before height 1',
      batch(aggregator, READINGS, { keyHeight: 0 }),
    ),
    invalid(
      'telemetry-key-height-above-block',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.keyHeight',
      'keys at height 11, above the block (10)',
      batch(aggregator, READINGS, { keyHeight: 11 }),
    ),
    invalid(
      'telemetry-one-reading-altered',
      'validateTx',
      ErrorCode.TX_BAD_SIGNATURE,
      'tx.body.signature',
      'the device signed -11 Wh for its second reading; the batch says -12',
      batch(aggregator, READINGS, { signature: aggregate(READINGS, [1]) }),
    ),
    invalid(
      'telemetry-soc-101',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      at(0, 'stateOfChargePercent'),
      'a state of charge of 101 %',
      batch(aggregator, [reading(-1000, -1n, 'meter-0001', 101)]),
    ),
    invalid(
      'check-meter-resolution-not-frozen',
      'validateTx',
      ErrorCode.INTERVAL_NOT_FROZEN,
      'tx.body.intervalStartMs',
      "the block's own interval: open, nothing to resolve",
      resolution(north, FROZEN_START + INTERVAL, 0, null),
    ),
    invalid(
      'check-meter-resolution-value-out-of-range',
      'validateTx',
      ErrorCode.TX_INVALID_FIELD,
      'tx.body.valueWh',
      '2,200 Wh: more than either meter measured',
      resolution(north, FROZEN_START, 2, 2200n),
    ),
    invalid(
      'check-meter-resolution-by-non-dso',
      'validateTx',
      ErrorCode.TX_UNAUTHORIZED,
      'tx.sender',
      'aggregator-two does not hold the dso role',
      resolution(aggregator, FROZEN_START, 0, null),
    ),
  ];
}

/** The body codecs of types 20 and 27 seen through the vector file's JSON fields (vectors.test.ts BODY_CODECS). */
export const TELEMETRY_BODY_CODECS: Record<string, { fields(body: Uint8Array): Record<string, unknown>; encode(body: Uint8Array): Uint8Array }> = {
  'telemetry-batch': {
    fields: (b) => {
      const t = decodeTelemetryBatchBody(b);
      return { keyHeight: t.keyHeight, readings: t.readings.map(readingFields), signature: hex(t.signature) };
    },
    encode: (b) => encodeTelemetryBatchBody(decodeTelemetryBatchBody(b)),
  },
  'check-meter-resolution': {
    fields: (b) => {
      const r = decodeCheckMeterResolutionBody(b);
      return {
        deviceId: r.deviceId,
        intervalStartMs: r.intervalStartMs,
        resolution: CHECK_METER_RESOLUTIONS.indexOf(r.resolution),
        valueWh: r.valueWh?.toString() ?? null,
      };
    },
    encode: (b) => encodeCheckMeterResolutionBody(decodeCheckMeterResolutionBody(b)),
  },
};
