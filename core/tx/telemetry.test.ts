import { describe, expect, it } from 'vitest';
import { encode } from '../codec.ts';
import { ErrorCode } from '../errors.ts';
import { errorOf } from '../testing/errors.ts';
import type { Reading } from '../telemetry.ts';
import { decodeCheckMeterResolutionBody, encodeCheckMeterResolutionBody } from './check-meter-resolution.ts';
import { decodeTelemetryBatchBody, encodeTelemetryBatchBody, MAX_BATCH_READINGS } from './telemetry-batch.ts';

const r = (deviceId: string, ts: bigint, wh: bigint, soc = 0): Reading => ({ deviceId, timestampUs: ts, netEnergyWh: wh, stateOfChargePercent: soc });
const sig = new Uint8Array(96).fill(7);

describe('telemetry-batch body (type 20)', () => {
  it('round-trips, int64 extremes included', () => {
    const body = { keyHeight: 42, readings: [r('pv-1', 1n, -(2n ** 63n)), r('bat:2', 2n ** 63n - 1n, 2n ** 63n - 1n, 100)], signature: sig };
    expect(decodeTelemetryBatchBody(encodeTelemetryBatchBody(body))).toEqual(body);
  });

  it('names the field it refuses', () => {
    expect(errorOf(() => decodeTelemetryBatchBody(encode([1, [], sig])))).toMatchObject({ code: ErrorCode.TX_INVALID_FIELD, field: 'tx.body.readings' });
    expect(errorOf(() => decodeTelemetryBatchBody(encode([1, [['pv', 1, 1, 101]], sig])))).toMatchObject({ field: 'tx.body.readings[0].stateOfChargePercent' });
    expect(errorOf(() => decodeTelemetryBatchBody(encode([1, [['pv', 0, 1, 0]], sig])))).toMatchObject({ field: 'tx.body.readings[0].timestampUs' });
    expect(errorOf(() => decodeTelemetryBatchBody(encode([1, [['bad id', 1, 1, 0]], sig])))).toMatchObject({ field: 'tx.body.readings[0].deviceId' });
    expect(errorOf(() => decodeTelemetryBatchBody(encode([1, [['pv', 1, 1, 0]], sig.subarray(1)])))).toMatchObject({
      code: ErrorCode.CODEC_WRONG_TYPE,
      field: 'tx.body.signature',
    });
    expect(errorOf(() => decodeTelemetryBatchBody(encode([1, [['pv', 1, 1, 0]]])))).toMatchObject({ field: 'tx.body' });
    const tooMany = Array.from({ length: MAX_BATCH_READINGS + 1 }, (_, i) => ['pv', i + 1, 0, 0]);
    expect(errorOf(() => decodeTelemetryBatchBody(encode([1, tooMany, sig])))).toMatchObject({ field: 'tx.body.readings' });
  });
});

describe('check-meter-resolution body (type 27)', () => {
  it('round-trips each resolution', () => {
    for (const b of [
      { deviceId: 'pv', intervalStartMs: 1_700_000_010_000, resolution: 'device' as const },
      { deviceId: 'pv', intervalStartMs: 0, resolution: 'check-meter' as const },
      { deviceId: 'pv', intervalStartMs: 30_000, resolution: 'value' as const, valueWh: 2n ** 40n },
    ])
      expect(decodeCheckMeterResolutionBody(encodeCheckMeterResolutionBody(b))).toEqual(b);
  });

  it('takes a value exactly with resolution value', () => {
    expect(errorOf(() => decodeCheckMeterResolutionBody(encode(['pv', 0, 2, null])))).toMatchObject({
      code: ErrorCode.TX_INVALID_FIELD,
      field: 'tx.body.valueWh',
    });
    expect(errorOf(() => decodeCheckMeterResolutionBody(encode(['pv', 0, 0, 5])))).toMatchObject({
      code: ErrorCode.TX_INVALID_FIELD,
      field: 'tx.body.valueWh',
    });
    expect(errorOf(() => decodeCheckMeterResolutionBody(encode(['pv', 0, 3, null])))).toMatchObject({
      code: ErrorCode.TX_INVALID_FIELD,
      field: 'tx.body.resolution',
    });
  });
});
