import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS } from '../../core/params.ts';
import { TxType } from '../../core/tx/types.ts';
import { mempoolPriority, mempoolTier, PRIORITY_SCALE, txDevices } from './tiers.ts';

describe('mempool tier of each tx type', () => {
  it('follows the shared table: system first, then grid_balancing, peer_to_peer, carbon_credit', () => {
    const expected: [number, string][] = [
      [TxType.validatorVote, 'system'],
      [TxType.evidence, 'system'],
      [TxType.roleVote, 'system'],
      [TxType.reversalPropose, 'system'],
      [TxType.reversalApprove, 'system'],
      [TxType.deviceRegister, 'grid_balancing'],
      [TxType.deviceUpdate, 'grid_balancing'],
      [TxType.deviceStatus, 'grid_balancing'],
      [TxType.deviceRekey, 'grid_balancing'],
      [TxType.telemetryBatch, 'grid_balancing'],
      [TxType.gridIntensity, 'grid_balancing'],
      [TxType.checkMeterResolution, 'grid_balancing'],
      [28, 'grid_balancing'],
      [TxType.transfer, 'peer_to_peer'],
      [TxType.energyTransfer, 'peer_to_peer'],
      [TxType.currencyMint, 'peer_to_peer'],
      [TxType.currencyBurn, 'peer_to_peer'],
      [32, 'peer_to_peer'],
      [TxType.orderCancel, 'peer_to_peer'],
      [TxType.energyRetire, 'carbon_credit'],
    ];
    for (const [type, tier] of expected) expect([type, mempoolTier(type)]).toEqual([type, tier]);
  });
});

describe('priority: fee per byte x the tier multiplier, integers only', () => {
  const tx = (fee: bigint, bytes: number) => ({ type: TxType.transfer, fee, bytes: new Uint8Array(bytes) });

  it('scales fee per byte by the multiplier in basis points, rounding down', () => {
    // 300 / 200 bytes = 1.5 per byte; x 2.0 (grid) = 3, x 1.0 = 1.5, x 0.5 = 0.75, in millionths.
    expect(mempoolPriority(tx(300n, 200), 'grid_balancing', DEFAULT_PARAMS)).toBe(3n * PRIORITY_SCALE);
    expect(mempoolPriority(tx(300n, 200), 'peer_to_peer', DEFAULT_PARAMS)).toBe((3n * PRIORITY_SCALE) / 2n);
    expect(mempoolPriority(tx(300n, 200), 'carbon_credit', DEFAULT_PARAMS)).toBe((3n * PRIORITY_SCALE) / 4n);
    expect(mempoolPriority(tx(300n, 200), 'system', DEFAULT_PARAMS)).toBe((3n * PRIORITY_SCALE) / 2n);
    // 10 / 3 bytes x 1.0 = 3.333..., rounded down.
    expect(mempoolPriority(tx(10n, 3), 'peer_to_peer', DEFAULT_PARAMS)).toBe(3_333_333n);
    const odd = { ...DEFAULT_PARAMS, tiers: DEFAULT_PARAMS.tiers.map((t) => ({ ...t, priorityMultiplierBps: 3333 })) };
    expect(mempoolPriority(tx(1n, 1), 'carbon_credit', odd)).toBe(333_300n);
  });

  it('ranks a big tx by what it pays per byte, not in total', () => {
    expect(mempoolPriority(tx(1_000n, 10_000), 'peer_to_peer', DEFAULT_PARAMS)).toBeLessThan(mempoolPriority(tx(100n, 200), 'peer_to_peer', DEFAULT_PARAMS));
  });
});

describe('devices a tx speaks for', () => {
  it("a telemetry batch's devices once each, a device tx's device, none for a transfer", () => {
    const reading = (deviceId: string) => ({ deviceId, timestampUs: 1n, netEnergyWh: 1n, stateOfChargePercent: 50 });
    expect(txDevices(TxType.telemetryBatch, { keyHeight: 0, readings: [reading('a'), reading('b'), reading('a')], signature: new Uint8Array(96) })).toEqual([
      'a',
      'b',
    ]);
    expect(txDevices(TxType.deviceStatus, { id: 'meter-7', action: 'revoke' })).toEqual(['meter-7']);
    expect(txDevices(TxType.checkMeterResolution, { deviceId: 'meter-8' })).toEqual(['meter-8']);
    expect(txDevices(TxType.transfer, {})).toEqual([]);
  });
});
