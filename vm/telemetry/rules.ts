import { equalBytes, toHex } from '../../core/bytes.ts';
import { deviceKeyAt, type DeviceRecord } from '../../core/device.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { intervalOf, settlesAt } from '../../core/meter.ts';
import type { EnergyParams } from '../../core/params.ts';
import type { Reading } from '../../core/telemetry.ts';
import type { TelemetryBatchBody } from '../../core/tx/telemetry-batch.ts';
import { getDevice } from '../../state/devices.ts';
import type { StateReader } from '../../state/overlay.ts';
import { getMeterCursor } from '../../state/telemetry.ts';
import { addressText } from '../accounts.ts';
import type { ChainContext } from '../types.ts';

/**
 * The validity of a telemetry batch's readings (vm/README.md "Telemetry"), one rule at a
 * time, each failure naming the reading: `tx.body.readings[i].<field>`.
 */

/** The field path naming reading i's `field`. */
export const readingField = (i: number, field: string) => `tx.body.readings[${i}].${field}`;
const quoted = (s: string) => JSON.stringify(s);

/** The height a batch is checked for; a context without one cannot check device keys. */
export function checkedHeight(ctx: ChainContext): number {
  if (ctx.height === undefined)
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, 'a telemetry batch is checked for a block height, and none was given', 'tx.body.keyHeight');
  return ctx.height;
}

/** Within the batch, each device's timestamps strictly increase (stateless). */
export function checkBatchOrder(readings: readonly Reading[]): void {
  const last = new Map<string, bigint>();
  readings.forEach((r, i) => {
    const before = last.get(r.deviceId);
    if (before !== undefined && r.timestampUs <= before) {
      throw new JouleError(
        ErrorCode.TELEMETRY_OUT_OF_ORDER,
        `device ${quoted(r.deviceId)}: timestamp ${r.timestampUs} is not after its previous reading in the batch (${before})`,
        readingField(i, 'timestampUs'),
      );
    }
    last.set(r.deviceId, r.timestampUs);
  });
}

/** The index of each device's first reading in the batch, in batch order. */
export function firstReadings(readings: readonly Reading[]): Map<string, number> {
  const first = new Map<string, number>();
  readings.forEach((r, i) => {
    if (!first.has(r.deviceId)) first.set(r.deviceId, i);
  });
  return first;
}

/**
 * A device of the batch must be registered (else the batch is refused whole: its aggregate
 * names the device's key). Throws DEVICE_UNKNOWN; returns the record.
 */
export function registeredDevice(state: StateReader, body: TelemetryBatchBody, i: number): DeviceRecord {
  const id = body.readings[i]!.deviceId;
  const d = getDevice(state, id);
  if (d === undefined) throw new JouleError(ErrorCode.DEVICE_UNKNOWN, `no device ${quoted(id)} is registered`, readingField(i, 'deviceId'));
  return d;
}

/**
 * Why the readings of a registered device `d` cannot count at `height` in a batch from
 * `sender` signed with the device keys of `keyHeight`, or undefined: it is not active, not
 * operated by the sender, or its key at keyHeight is not its key at height. Each of these
 * can change between a batch's admission and its inclusion, so a batch skips such a
 * device's readings rather than failing whole (vm/telemetry/batch.ts); the node's
 * aggregator leaves them out of the batches it builds (node/ingress/aggregator.ts).
 * `field` names the device in the error.
 */
export function deviceRefusal(d: DeviceRecord, sender: Uint8Array, keyHeight: number, height: number, field: string): JouleError | undefined {
  const id = d.id;
  if (d.status !== 'active') return new JouleError(ErrorCode.DEVICE_INACTIVE, `device ${quoted(id)} is ${d.status}: its telemetry is refused`, field);
  const foreign = notTheSenders(d, sender, field);
  if (foreign !== undefined) return foreign;
  const now = deviceKeyAt(d, height);
  if (now === undefined)
    return new JouleError(
      ErrorCode.DEVICE_INACTIVE,
      `device ${quoted(id)} has no key before height ${d.keyHistory[0]!.fromHeight} (it was registered in this block)`,
      field,
    );
  const signer = deviceKeyAt(d, keyHeight);
  if (signer === undefined || !equalBytes(signer, now)) {
    const since = d.keyHistory.findLast((k) => k.fromHeight <= height)!.fromHeight;
    return new JouleError(
      ErrorCode.TELEMETRY_KEY_ROTATED,
      `device ${quoted(id)}: the batch is signed with keys valid at height ${keyHeight}, but its key at height ${height} is 0x${toHex(now).slice(0, 16)}…, valid from height ${since}: a key rotated out signs nothing`,
      field,
    );
  }
  return undefined;
}

/** TX_UNAUTHORIZED when `sender` does not operate the registered device `d`. */
export function notTheSenders(d: DeviceRecord, sender: Uint8Array, field: string): JouleError | undefined {
  if (equalBytes(d.operator, sender)) return undefined;
  return new JouleError(
    ErrorCode.TX_UNAUTHORIZED,
    `device ${quoted(d.id)} is operated by ${addressText(d.operator)}, not by the sender ${addressText(sender)}`,
    field,
  );
}

/** The device's first reading of the batch comes after its last one on chain: no reading counts twice. */
export function checkAfterCursor(state: StateReader, r: Reading, i: number): void {
  const cursor = getMeterCursor(state, r.deviceId);
  if (cursor !== undefined && r.timestampUs <= cursor.lastTimestampUs) {
    throw new JouleError(
      ErrorCode.TELEMETRY_OUT_OF_ORDER,
      `device ${quoted(r.deviceId)}: timestamp ${r.timestampUs} is not after its last reading on chain (${cursor.lastTimestampUs}): a replay or out of order`,
      readingField(i, 'timestampUs'),
    );
  }
}

/**
 * Block time rules: within maxReadingSkewMs of the block's timestamp, and in an interval
 * not yet settled (an interval settles, and is closed, at its end plus settlementDelayMs).
 */
export function checkReadingTime(r: Reading, i: number, blockTimeMs: number, p: EnergyParams): void {
  const blockUs = BigInt(blockTimeMs) * 1000n;
  const skewUs = BigInt(p.maxReadingSkewMs) * 1000n;
  const diff = r.timestampUs - blockUs;
  if (diff > skewUs || -diff > skewUs) {
    throw new JouleError(
      ErrorCode.TELEMETRY_SKEW,
      `timestamp ${r.timestampUs} µs is more than ${p.maxReadingSkewMs} ms from the block's time (${blockTimeMs} ms)`,
      readingField(i, 'timestampUs'),
    );
  }
  const start = intervalOf(r.timestampUs, p.settlementIntervalMs);
  const due = settlesAt(start, p);
  if (blockTimeMs >= due) {
    throw new JouleError(
      ErrorCode.TELEMETRY_SETTLED,
      `the interval starting at ${start} ms settled at ${due} ms, before the block's time (${blockTimeMs} ms)`,
      readingField(i, 'timestampUs'),
    );
  }
}
