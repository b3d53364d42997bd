import { equalBytes } from '../../core/bytes.ts';
import { deviceKeyAt, type DeviceRecord } from '../../core/device.ts';
import { ErrorCode } from '../../core/errors.ts';
import { intervalOf, settlesAt } from '../../core/meter.ts';
import type { EnergyParams } from '../../core/params.ts';
import type { ReadingVerdict } from '../../rpc/grpc/device-ingress.ts';
import { deviceRefusal } from '../../vm/telemetry/rules.ts';
import type { KeyedReading } from './batch-gate.ts';

/**
 * Which readings a telemetry batch built now could carry, so that the chain would not
 * refuse the batch for one of them (node/ingress/aggregator.ts drops the others one by one,
 * with their reason, rather than sink the other devices' readings with the batch).
 */

/** What a batch built now names and is judged against. */
export interface BatchMoment {
  /** The height whose device keys the batch names (the head's). */
  readonly keyHeight: number;
  readonly nowMs: number;
  readonly params: Pick<EnergyParams, 'maxReadingSkewMs' | 'settlementDelayMs' | 'settlementIntervalMs'>;
  /** The device record in the latest state. */
  readonly device: (id: string) => DeviceRecord | undefined;
  /** This node's aggregator account, the batch's sender. */
  readonly aggregator: Uint8Array;
}

/** Why `r` could not be in a batch built at `m`, or undefined. */
export function unbatchable(r: KeyedReading, m: BatchMoment): ErrorCode | undefined {
  const p = m.params;
  // A quarter of the skew the chain allows is left for admission and inclusion (in quarter-ms, exact for any skew).
  const skew = BigInt(p.maxReadingSkewMs);
  const now4 = BigInt(m.nowMs) * 4n;
  if (r.timestampUs * 4n < (now4 - 3n * skew) * 1000n) return ErrorCode.TELEMETRY_SKEW;
  if (BigInt(settlesAt(intervalOf(r.timestampUs, p.settlementIntervalMs), p)) * 4n <= now4 + skew) return ErrorCode.TELEMETRY_SETTLED;
  const d = m.device(r.deviceId);
  if (d === undefined) return ErrorCode.DEVICE_UNKNOWN;
  // The batch names the keys of keyHeight: the reading must verify under its device's.
  const key = deviceKeyAt(d, m.keyHeight);
  if (key === undefined || !equalBytes(key, r.publicKey)) return ErrorCode.TELEMETRY_KEY_ROTATED;
  // The chain's own rule, at the height admission checks the batch for (the next one, where
  // a re-key in the head's block takes effect), under the node's name for another's device.
  const refusal = deviceRefusal(d, m.aggregator, m.keyHeight, m.keyHeight + 1, 'deviceId');
  if (refusal === undefined) return undefined;
  return refusal.code === ErrorCode.TX_UNAUTHORIZED ? ErrorCode.DEVICE_NOT_SERVED : refusal.code;
}

/** `readings` sorted into those a batch built at `m` could carry and, by reason, those it could not. */
export function sortOut<R extends KeyedReading>(readings: readonly R[], m: BatchMoment): { keep: R[]; dropped: Map<ErrorCode, R[]> } {
  const keep: R[] = [];
  const dropped = new Map<ErrorCode, R[]>();
  for (const r of readings) {
    const why = unbatchable(r, m);
    if (why === undefined) keep.push(r);
    else {
      let group = dropped.get(why);
      if (group === undefined) dropped.set(why, (group = []));
      group.push(r);
    }
  }
  return { keep, dropped };
}

/** What a reading dropped before its batch is told. */
const DROPPED: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.TELEMETRY_SKEW]: 'too old for a batch by the time one could take it (the node is behind)',
  [ErrorCode.TELEMETRY_SETTLED]: 'its interval settles before a batch could be included',
  [ErrorCode.TELEMETRY_KEY_ROTATED]: "the device's key changed: its readings must be signed by the new key",
  [ErrorCode.DEVICE_INACTIVE]: 'the device is no longer active',
  [ErrorCode.DEVICE_NOT_SERVED]: "the device is no longer operated by this node's aggregator",
  [ErrorCode.DEVICE_UNKNOWN]: 'the device is no longer registered',
  [ErrorCode.TX_BAD_SIGNATURE]: "the signature does not verify under the device's key",
};

export function droppedVerdict(reason: ErrorCode): ReadingVerdict {
  return { ok: false, code: reason, message: DROPPED[reason] ?? `dropped before batching: ${reason}` };
}
