import { beforeEach, describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import type { DeviceRecord } from '../../core/device.ts';
import { blsFromSecret } from '../../core/keys.ts';
import { openInterval } from '../../core/meter.ts';
import { deviceHealthKey, intervalTotalsKey } from '../../core/state-keys.ts';
import { buildTelemetryBatch } from '../../core/tx/telemetry-batch.ts';
import { buildTransfer } from '../../core/tx/transfer.ts';
import { createFakeNode, FAKE_CHAIN_ID, rpcCaller, type FakeNode } from '../testing/fake-node.ts';
import { MAX_INTERVALS_PAGE, MAX_READINGS_PAGE } from './telemetry-methods.ts';

let node: FakeNode;
let call: ReturnType<typeof rpcCaller>;
const T = 1_700_000_000_000_000n;

beforeEach(() => {
  node = createFakeNode();
  call = rpcCaller(node);
  const key = blsFromSecret(new Uint8Array(32).fill(1)).publicKey;
  const d: DeviceRecord = {
    id: 'pv-1',
    publicKey: key,
    owner: new Uint8Array(20).fill(9),
    operator: new Uint8Array(20).fill(1),
    kind: 'solar',
    zone: 'NL',
    maxImportW: 1000,
    maxExportW: 5000,
    carbonIntensity: 20,
    checkMeter: undefined,
    status: 'active',
    keyHistory: [{ key, fromHeight: 2 }],
  };
  node.devices.set('pv-1', d);
  for (let i = 0; i < 5; i++)
    node.readings.push({ deviceId: 'pv-1', timestampUs: T + BigInt(i * 1_000_000), netEnergyWh: BigInt(-i), stateOfChargePercent: 0, height: 10 + i });
  node.intervals.push(
    {
      ...openInterval('pv-1', 1_700_000_010_000),
      readings: 3,
      exportWh: 12n,
      importWh: 2n,
      status: 'frozen',
      mintedWh: 10n,
      utxoId: new Uint8Array(32).fill(4),
      check: { deviceId: 'cm', readings: 2, importWh: 0n, exportWh: 11n },
    },
    { ...openInterval('pv-1', 1_700_000_040_000), readings: 1, exportWh: 1n },
  );
  node.health.set('pv-1', {
    missed: 2,
    lastReportedMs: 1_700_000_040_000,
    lastVerified: { intervalStartMs: 1_700_000_040_000, importWh: 0n, exportWh: 10n },
    estimate: { intervalStartMs: 1_700_000_100_000, importWh: 0n, exportWh: 9n },
    flaggedAtMs: undefined,
  });
});

describe('joule_sendTelemetryBatch', () => {
  it('submits a telemetry batch, and nothing else', async () => {
    const batch = buildTelemetryBatch({
      chainId: FAKE_CHAIN_ID,
      seed: node.alice.seed,
      nonce: 0,
      fee: 25n,
      keyHeight: 1,
      readings: [{ deviceId: 'pv-1', timestampUs: T, netEnergyWh: -1n, stateOfChargePercent: 0 }],
      signature: new Uint8Array(96),
    });
    expect((await call('joule_sendTelemetryBatch', [`0x${toHex(batch.bytes)}`])).result).toEqual({ hash: `0x${toHex(batch.hash)}` });
    expect(node.submitted).toHaveLength(1);
    const transfer = buildTransfer({ chainId: FAKE_CHAIN_ID, seed: node.alice.seed, nonce: 0, fee: 10n, to: new Uint8Array(20), amount: 1n });
    expect((await call('joule_sendTelemetryBatch', [`0x${toHex(transfer.bytes)}`])).error.data).toMatchObject({ code: 'INVALID_PARAMS', field: 'params[0]' });
  });
});

describe('joule_getReadings', () => {
  it("pages a device's counted readings by time, int64s as decimal strings", async () => {
    const page = (await call('joule_getReadings', ['pv-1', { fromUs: (T + 1_000_000n).toString(), limit: 2 }])).result;
    expect(page).toEqual({
      device: 'pv-1',
      readings: [
        { deviceId: 'pv-1', timestampUs: (T + 1_000_000n).toString(), netEnergyWh: '-1', stateOfChargePercent: 0, height: 11 },
        { deviceId: 'pv-1', timestampUs: (T + 2_000_000n).toString(), netEnergyWh: '-2', stateOfChargePercent: 0, height: 12 },
      ],
      nextFromUs: (T + 2_000_001n).toString(),
    });
    const rest = (await call('joule_getReadings', ['pv-1', { fromUs: page.nextFromUs }])).result;
    expect(rest.readings).toHaveLength(2);
    expect(rest.nextFromUs).toBeNull();
  });

  it('bounds and checks its params', async () => {
    expect((await call('joule_getReadings', ['pv-1', { limit: MAX_READINGS_PAGE + 1 }])).error.data).toMatchObject({
      code: 'INVALID_PARAMS',
      field: 'params[1].limit',
    });
    expect((await call('joule_getReadings', ['pv-1', { fromUs: -1 }])).error.data).toMatchObject({ field: 'params[1].fromUs' });
    expect((await call('joule_getReadings', ['pv-1', { since: 1 }])).error.data).toMatchObject({ field: 'params[1].since' });
    expect((await call('joule_getReadings', ['no such id!'])).error.data).toMatchObject({ field: 'params[0]' });
  });
});

describe('joule_getIntervalTotals', () => {
  it('shows each interval with its status, what was minted and the check meter, and the key that proves it', async () => {
    const r = (await call('joule_getIntervalTotals', ['pv-1', { from: 1_700_000_000_000, limit: 1 }])).result;
    expect(r).toEqual({
      device: 'pv-1',
      intervals: [
        {
          deviceId: 'pv-1',
          intervalStartMs: 1_700_000_010_000,
          intervalEndMs: 1_700_000_040_000,
          readings: 3,
          importWh: '2',
          exportWh: '12',
          netEnergyWh: '-10',
          status: 'frozen',
          mintedWh: '10',
          utxo: `0x${'04'.repeat(32)}`,
          checkMeter: { deviceId: 'cm', readings: 2, importWh: '0', exportWh: '11' },
          stateKey: `0x${toHex(intervalTotalsKey('pv-1', 1_700_000_010_000))}`,
        },
      ],
      nextFrom: 1_700_000_010_001,
    });
    expect((await call('joule_getIntervalTotals', ['pv-1', { limit: MAX_INTERVALS_PAGE + 1 }])).error.data).toMatchObject({ field: 'params[1].limit' });
  });
});

describe('joule_getDeviceHealth', () => {
  it('shows missed intervals, the estimate, dispatch; null for an unknown device', async () => {
    expect((await call('joule_getDeviceHealth', ['pv-1'])).result).toEqual({
      device: 'pv-1',
      status: 'active',
      inDispatch: true,
      flaggedForInspection: false,
      missedIntervals: 2,
      lastReportedMs: 1_700_000_040_000,
      lastReadingUs: (T + 4_000_000n).toString(),
      lastVerified: { intervalStartMs: 1_700_000_040_000, importWh: '0', exportWh: '10' },
      estimate: { intervalStartMs: 1_700_000_100_000, importWh: '0', exportWh: '9' },
      flaggedAtMs: null,
      stateKey: `0x${toHex(deviceHealthKey('pv-1'))}`,
    });
    expect((await call('joule_getDeviceHealth', ['ghost'])).result).toBeNull();
  });
});
