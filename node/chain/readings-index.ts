import type { Receipt } from '../../core/block.ts';
import { concatBytes, u64be, utf8 } from '../../core/bytes.ts';
import { decode, encode, readArray, readUint } from '../../core/codec.ts';
import { skippedDevices } from '../../core/telemetry.ts';
import { decodeTelemetryBatchBody } from '../../core/tx/telemetry-batch.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { type Database, type DbBatch, DbPrefix, dbKey } from '../../state/db.ts';

/**
 * The readings the chain counted, by device and time: an index of committed blocks (not
 * state, so it carries no proof), written in the block's own commit batch for the readings
 * of each telemetry batch that succeeded, less those of the devices it skipped (a receipt's
 * `telemetry-skipped` events), and read by joule_getReadings. The state keeps only what
 * settlement needs (each device's last reading, interval totals); every reading stays in
 * its block, and this index finds it without reading blocks.
 *
 *   DbPrefix.readings ++ u8(len deviceId) ++ deviceId ++ u64be(timestampUs)
 *     -> [height, netEnergyWh, stateOfChargePercent]
 */

export interface IndexedReading {
  readonly deviceId: string;
  readonly timestampUs: bigint;
  readonly netEnergyWh: bigint;
  readonly stateOfChargePercent: number;
  /** The block that counted it. */
  readonly height: number;
}

function devicePrefix(deviceId: string): Uint8Array {
  const id = utf8(deviceId);
  return dbKey(DbPrefix.readings, concatBytes(new Uint8Array([id.length]), id));
}

/** Index entries for the readings a committed block counted. */
export function indexReadings(batch: DbBatch, height: number, txs: readonly Tx[], receipts: readonly Receipt[]): number {
  let n = 0;
  txs.forEach((tx, i) => {
    const receipt = receipts[i];
    if (tx.type !== TxType.telemetryBatch || receipt?.success !== true) return;
    const skipped = skippedDevices(receipt.events);
    for (const r of decodeTelemetryBatchBody(tx.body).readings) {
      if (skipped.has(r.deviceId)) continue;
      batch.put(concatBytes(devicePrefix(r.deviceId), u64be(r.timestampUs)), encode([height, r.netEnergyWh, r.stateOfChargePercent]));
      n++;
    }
  });
  return n;
}

/** A device's counted readings with fromUs <= timestamp <= toUs, ascending, at most `limit`. */
export async function readIndexedReadings(db: Database, deviceId: string, fromUs: bigint, toUs: bigint, limit: number): Promise<IndexedReading[]> {
  const prefix = devicePrefix(deviceId);
  const out: IndexedReading[] = [];
  if (limit <= 0 || toUs < fromUs) return out;
  const from = concatBytes(prefix, u64be(fromUs < 0n ? 0n : fromUs));
  for await (const [key, value] of db.iterate(prefix, { from, limit })) {
    const timestampUs = new DataView(key.buffer, key.byteOffset + prefix.length, 8).getBigUint64(0);
    if (timestampUs > toUs) break;
    const f = readArray(decode(value, 'reading'), 'reading', 3);
    const wh = f[1]!;
    out.push({
      deviceId,
      timestampUs,
      netEnergyWh: typeof wh === 'bigint' ? wh : BigInt(wh as number),
      stateOfChargePercent: readUint(f[2]!, 'reading.stateOfChargePercent'),
      height: readUint(f[0]!, 'reading.height'),
    });
  }
  return out;
}
