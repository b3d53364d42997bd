import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Receipt } from '../../core/block.ts';
import { READINGS_SKIPPED_EVENT, type Reading } from '../../core/telemetry.ts';
import { buildTelemetryBatch } from '../../core/tx/telemetry-batch.ts';
import { buildTransfer } from '../../core/tx/transfer.ts';
import type { Tx } from '../../core/tx.ts';
import { Database } from '../../state/db.ts';
import { indexReadings, readIndexedReadings } from './readings-index.ts';

const seed = new Uint8Array(32).fill(3);
const sig = new Uint8Array(96).fill(1);
const r = (deviceId: string, ts: bigint, wh: bigint): Reading => ({ deviceId, timestampUs: ts, netEnergyWh: wh, stateOfChargePercent: 40 });
const batch = (nonce: number, readings: Reading[]) => buildTelemetryBatch({ chainId: 'c', seed, nonce, fee: 25n, keyHeight: 1, readings, signature: sig });
const receipt = (tx: Tx, success: boolean, skipped: string[] = []): Receipt => ({
  txHash: tx.hash,
  success,
  code: success ? '' : 'TX_INSUFFICIENT_BALANCE',
  feePaid: 25n,
  events: skipped.map((device) => ({
    type: READINGS_SKIPPED_EVENT,
    attributes: [
      ['device', device],
      ['reason', 'DEVICE_INACTIVE'],
      ['readings', '1'],
    ],
  })),
});

let dir: string;
let db: Database;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'joule-readings-'));
  db = await Database.open(dir);
});
afterEach(async () => {
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the readings index', () => {
  it("indexes the readings a block counted (successful batches, less their skipped devices), and pages a device's readings by time", async () => {
    const counted = batch(0, [r('a', 10n, -1n), r('ab', 11n, -2n), r('s', 11n, -2n), r('a', 12n, 3n), r('a', 2n ** 62n, -4n)]);
    const failed = batch(1, [r('a', 13n, -100n)]);
    const other = buildTransfer({ chainId: 'c', seed, nonce: 2, fee: 10n, to: new Uint8Array(20), amount: 1n });
    const b = db.batch();
    expect(indexReadings(b, 7, [counted, failed, other], [receipt(counted, true, ['s']), receipt(failed, false), receipt(other, true)])).toBe(4);
    await b.write();
    expect(await readIndexedReadings(db, 'a', 0n, 2n ** 63n - 1n, 10)).toEqual([
      { deviceId: 'a', timestampUs: 10n, netEnergyWh: -1n, stateOfChargePercent: 40, height: 7 },
      { deviceId: 'a', timestampUs: 12n, netEnergyWh: 3n, stateOfChargePercent: 40, height: 7 },
      { deviceId: 'a', timestampUs: 2n ** 62n, netEnergyWh: -4n, stateOfChargePercent: 40, height: 7 },
    ]);
    // Device "a" does not see "ab"'s readings (ids are length-prefixed); ranges and limits hold.
    expect((await readIndexedReadings(db, 'a', 11n, 12n, 10)).map((x) => x.timestampUs)).toEqual([12n]);
    expect((await readIndexedReadings(db, 'a', 0n, 2n ** 63n - 1n, 1)).map((x) => x.timestampUs)).toEqual([10n]);
    expect((await readIndexedReadings(db, 'ab', 0n, 100n, 10)).map((x) => x.netEnergyWh)).toEqual([-2n]);
    expect(await readIndexedReadings(db, 's', 0n, 100n, 10)).toEqual([]);
  });
});
