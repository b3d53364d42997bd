import { decode, encode, readAmount, readArray, readString, readUint } from '../codec.ts';
import { checkDeviceId, MAX_DEVICE_ID_LENGTH } from '../device.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/**
 * What a dso accepts for an interval frozen by a check-meter disagreement: the device's
 * net export, the check meter's, or a value between them (inclusive). The wire form is the
 * index, so the order is fixed.
 */
export const CHECK_METER_RESOLUTIONS = ['device', 'check-meter', 'value'] as const;
export type CheckMeterResolution = (typeof CHECK_METER_RESOLUTIONS)[number];

/**
 * Type 27. Wire form: [deviceId, intervalStartMs, resolution (0 device, 1 check-meter,
 * 2 value), valueWh | nil]; valueWh is given exactly when resolution is `value`.
 */
export interface CheckMeterResolutionBody {
  readonly deviceId: string;
  readonly intervalStartMs: number;
  readonly resolution: CheckMeterResolution;
  /** The accepted net export, Wh, for resolution `value`. */
  readonly valueWh?: bigint;
}

/** Wh fit in int64, as readings do. */
const MAX_WH = 2n ** 63n - 1n;

const bad = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, `tx.body.${field}`);

function check(b: CheckMeterResolutionBody): void {
  checkDeviceId(b.deviceId, 'tx.body.deviceId');
  if (!Number.isSafeInteger(b.intervalStartMs) || b.intervalStartMs < 0) throw bad('intervalStartMs', 'must be a non-negative integer (ms)');
  if (!(CHECK_METER_RESOLUTIONS as readonly string[]).includes(b.resolution)) throw bad('resolution', `must be one of ${CHECK_METER_RESOLUTIONS.join(', ')}`);
  if (b.resolution === 'value') {
    if (typeof b.valueWh !== 'bigint' || b.valueWh < 0n || b.valueWh > MAX_WH)
      throw bad('valueWh', 'must be a non-negative integer number of Wh (int64) for resolution value');
  } else if (b.valueWh !== undefined) {
    throw bad('valueWh', `must be absent for resolution ${b.resolution}`);
  }
}

export function encodeCheckMeterResolutionBody(b: CheckMeterResolutionBody): Uint8Array {
  check(b);
  return encode([b.deviceId, b.intervalStartMs, CHECK_METER_RESOLUTIONS.indexOf(b.resolution), b.valueWh ?? null]);
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.*`. */
export function decodeCheckMeterResolutionBody(bytes: Uint8Array): CheckMeterResolutionBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 4);
  const n = readUint(f[2]!, 'tx.body.resolution');
  const resolution = CHECK_METER_RESOLUTIONS[n];
  if (resolution === undefined) throw bad('resolution', `must be 0 (device), 1 (check-meter) or 2 (value), got ${n}`);
  const body: CheckMeterResolutionBody = {
    deviceId: readString(f[0]!, 'tx.body.deviceId', MAX_DEVICE_ID_LENGTH),
    intervalStartMs: readUint(f[1]!, 'tx.body.intervalStartMs'),
    resolution,
    ...(f[3] === null ? {} : { valueWh: readAmount(f[3]!, 'tx.body.valueWh') }),
  };
  check(body);
  return body;
}

export function buildCheckMeterResolution(args: SenderArgs & CheckMeterResolutionBody): Tx {
  const { deviceId, intervalStartMs, resolution, valueWh } = args;
  return signBody(
    args,
    TxType.checkMeterResolution,
    encodeCheckMeterResolutionBody({ deviceId, intervalStartMs, resolution, ...(valueWh === undefined ? {} : { valueWh }) }),
  );
}
