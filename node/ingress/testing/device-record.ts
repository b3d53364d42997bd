import type { DeviceRecord } from '../../../core/device.ts';

/** An active solar device of zone T operated and owned by `operator`, signing with `publicKey` from height 1, with `over` applied. */
export function testDeviceRecord(id: string, publicKey: Uint8Array, operator: Uint8Array, over: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    id,
    publicKey,
    owner: operator,
    operator,
    kind: 'solar',
    zone: 'T',
    maxImportW: 10_000,
    maxExportW: 10_000,
    carbonIntensity: 0,
    checkMeter: undefined,
    status: 'active',
    keyHistory: [{ key: publicKey, fromHeight: 1 }],
    ...over,
  };
}
