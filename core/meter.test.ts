import { describe, expect, it } from 'vitest';
import {
  decodeCloseItem,
  decodeDeviceHealth,
  decodeIntervalTotals,
  decodeMeterCursor,
  derate,
  encodeCloseItem,
  encodeDeviceHealth,
  encodeIntervalTotals,
  encodeMeterCursor,
  intervalOf,
  metersDisagree,
  netEnergy,
  openInterval,
  settlesAt,
  type DeviceHealth,
  type IntervalTotals,
} from './meter.ts';

describe('meter records', () => {
  it('round-trip through their canonical encodings', () => {
    for (const cursor of [
      { lastTimestampUs: 2n ** 62n, importCarry: 3_600_000_000, exportCarry: 0, open: undefined },
      { lastTimestampUs: 5n, importCarry: 0, exportCarry: 7, open: { intervalStartMs: 30_000, readings: 4, importWh: 2n ** 40n, exportWh: 0n } },
    ]) {
      expect(decodeMeterCursor(encodeMeterCursor(cursor))).toEqual(cursor);
    }
    const t: IntervalTotals = {
      ...openInterval('pv-1', 1_700_000_010_000),
      readings: 7,
      importWh: 5n,
      exportWh: 2n ** 40n,
      status: 'frozen',
      mintedWh: 2n ** 40n - 5n,
      utxoId: new Uint8Array(32).fill(9),
      check: { deviceId: 'cm', readings: 3, importWh: 0n, exportWh: 12n },
    };
    expect(decodeIntervalTotals(encodeIntervalTotals(t), 'pv-1', 1_700_000_010_000)).toEqual(t);
    const open = openInterval('x', 0);
    expect(decodeIntervalTotals(encodeIntervalTotals(open), 'x', 0)).toEqual(open);
    for (const item of [
      { checkMeter: 'cm', reported: true, kind: 'battery' as const, zone: 'DE-LU' },
      { checkMeter: undefined, reported: false },
    ])
      expect(decodeCloseItem(encodeCloseItem(item))).toEqual(item);
    const h: DeviceHealth = {
      missed: 3,
      lastReportedMs: 60_000,
      lastVerified: { intervalStartMs: 60_000, importWh: 0n, exportWh: 10n },
      estimate: { intervalStartMs: 120_000, importWh: 0n, exportWh: 9n },
      flaggedAtMs: undefined,
    };
    expect(decodeDeviceHealth(encodeDeviceHealth(h))).toEqual(h);
  });
});

describe('interval arithmetic', () => {
  it('puts a reading in the interval holding its millisecond, and settles at end plus delay', () => {
    expect(intervalOf(1_700_000_029_999_999n, 30_000)).toBe(1_700_000_010_000);
    expect(intervalOf(1_700_000_040_000_000n, 30_000)).toBe(1_700_000_040_000);
    expect(settlesAt(1_700_000_010_000, { settlementIntervalMs: 30_000, settlementDelayMs: 5_000 })).toBe(1_700_000_045_000);
  });

  it('nets import against export, and compares meters per mille of the larger magnitude', () => {
    expect(netEnergy({ importWh: 3n, exportWh: 10n })).toEqual({ importWh: 0n, exportWh: 7n });
    expect(netEnergy({ importWh: 10n, exportWh: 3n })).toEqual({ importWh: 7n, exportWh: 0n });
    const e = (exportWh: bigint) => ({ importWh: 0n, exportWh });
    expect(metersDisagree(e(1000n), e(1020n), 20)).toBe(false); // 20 / 1020 < 2 %
    expect(metersDisagree(e(1000n), e(1021n), 20)).toBe(true);
    expect(metersDisagree(e(0n), e(0n), 20)).toBe(false);
    expect(metersDisagree(e(0n), e(1n), 20)).toBe(true);
    expect(metersDisagree(e(5n), { importWh: 5n, exportWh: 0n }, 1000)).toBe(true); // opposite directions
  });

  it('de-rates in basis points, rounding down', () => {
    expect(derate(1000n, 1000)).toBe(900n);
    expect(derate(15n, 1000)).toBe(13n);
    expect(derate(7n, 0)).toBe(7n);
    expect(derate(7n, 10_000)).toBe(0n);
  });
});
