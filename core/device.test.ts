import { describe, expect, it } from 'vitest';
import { decode, encode } from './codec.ts';
import { decodeDevice, deviceKeyAt, encodeDevice, MAX_KEY_HISTORY, type DeviceRecord } from './device.ts';
import { ErrorCode } from './errors.ts';
import { blsFromSecret } from './keys.ts';
import { deviceKey, DeviceBucket, StatePrefix } from './state-keys.ts';
import { errorOf } from './testing/errors.ts';

const key = (n: number) => blsFromSecret(new Uint8Array(32).fill(n)).publicKey;

const record: DeviceRecord = {
  id: 'meter-0001',
  publicKey: key(2),
  owner: new Uint8Array(20).fill(1),
  operator: new Uint8Array(20).fill(2),
  kind: 'ev-charger',
  zone: 'NL',
  maxImportW: 11_000,
  maxExportW: 11_000,
  carbonIntensity: 0,
  checkMeter: 'meter-0002',
  status: 'active',
  keyHistory: [
    { key: key(1), fromHeight: 5 },
    { key: key(2), fromHeight: 90 },
  ],
};

describe('device record', () => {
  it('round-trips, with and without a check meter', () => {
    expect(decodeDevice(encodeDevice(record))).toEqual(record);
    const plain = { ...record, checkMeter: undefined, status: 'flagged-for-inspection' as const };
    expect(decodeDevice(encodeDevice(plain))).toEqual(plain);
  });

  it('stores the current key once: it is the last of the history', () => {
    const wire = decode(encodeDevice(record)) as unknown[];
    expect(wire).toHaveLength(11);
    expect(errorOf(() => encodeDevice({ ...record, publicKey: key(1) }))).toMatchObject({ code: ErrorCode.TX_INVALID_FIELD, field: 'device.publicKey' });
  });

  it('rejects records that break a rule, naming the field', () => {
    const cases: [Partial<DeviceRecord>, string][] = [
      [{ id: 'bad id' }, 'device.id'],
      [{ id: 'x'.repeat(65) }, 'device.id'],
      [{ zone: '' }, 'device.zone'],
      [{ maxImportW: -1 }, 'device.maxImportW'],
      [{ maxExportW: 1.5 }, 'device.maxExportW'],
      [{ carbonIntensity: 10_001 }, 'device.carbonIntensity'],
      [{ checkMeter: 'meter-0001' }, 'device.checkMeter'],
      [{ owner: new Uint8Array(19) }, 'device.owner'],
      [{ kind: 'nuclear' as never }, 'device.kind'],
      [{ keyHistory: [] }, 'device.keyHistory'],
      [
        {
          keyHistory: [
            { key: key(1), fromHeight: 90 },
            { key: key(2), fromHeight: 90 },
          ],
        },
        'device.keyHistory[1].fromHeight',
      ],
    ];
    for (const [change, field] of cases) expect(errorOf(() => encodeDevice({ ...record, ...change })).field).toBe(field);
    const long = Array.from({ length: MAX_KEY_HISTORY + 1 }, (_, i) => ({ key: key(2), fromHeight: i }));
    expect(errorOf(() => encodeDevice({ ...record, keyHistory: long })).field).toBe('device.keyHistory');
  });

  it('decoding rejects unknown kinds and statuses and malformed shapes', () => {
    const wire = decode(encodeDevice(record)) as unknown[];
    const bad = (i: number, v: unknown) => encode(wire.map((x, j) => (j === i ? v : x)) as never);
    expect(errorOf(() => decodeDevice(bad(3, 6))).field).toBe('device.kind');
    expect(errorOf(() => decodeDevice(bad(9, 4))).field).toBe('device.status');
    expect(errorOf(() => decodeDevice(bad(10, []))).field).toBe('device.keyHistory');
    expect(errorOf(() => decodeDevice(encode(wire.slice(0, 10) as never))).code).toBe(ErrorCode.CODEC_WRONG_TYPE);
  });
});

describe('deviceKeyAt', () => {
  it('gives the key valid at a height: none before registration, then each until the next takes over', () => {
    expect(deviceKeyAt(record, 4)).toBeUndefined();
    expect(deviceKeyAt(record, 5)).toEqual(key(1));
    expect(deviceKeyAt(record, 89)).toEqual(key(1));
    expect(deviceKeyAt(record, 90)).toEqual(key(2));
    expect(deviceKeyAt(record, 1_000_000)).toEqual(key(2));
  });
});

describe('device state keys', () => {
  it('lay the record under the device prefix and its record bucket', () => {
    expect([...deviceKey('ab')]).toEqual([StatePrefix.device, DeviceBucket.record, 0x61, 0x62]);
  });
});
