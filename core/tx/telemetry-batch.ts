import { decode, encode, readArray, readBytes, readUint } from '../codec.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import { BLS_SIGNATURE_LENGTH } from '../keys.ts';
import { readingFromWire, readingToWire, type Reading } from '../telemetry.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/**
 * Type 20: an aggregator's readings of many devices under ONE aggregate BLS signature
 * (aggregate-verify of distinct messages: each device signed its own reading's
 * core/telemetry.ts signing bytes). Wire form:
 *   [keyHeight, [[deviceId, timestampUs, netEnergyWh, stateOfChargePercent]...], signature (96)]
 * `keyHeight` says which key of each device signed: the one valid at that height
 * (core/device.ts deviceKeyAt). It must not be above the height the batch is checked for,
 * and each device's key there must still be its key at the inclusion height, so the key of
 * every reading is its device's key valid at the inclusion height; a batch signed with a
 * key rotated out since is refused by name (TELEMETRY_KEY_ROTATED). Fixing the height in
 * the body makes the signature a function of the tx bytes and of key history that can no
 * longer change, so a node may verify it once (vm/README.md "Telemetry").
 */
export interface TelemetryBatchBody {
  readonly keyHeight: number;
  readonly readings: readonly Reading[];
  readonly signature: Uint8Array;
}

/** Readings one batch holds at most (the chain's maxTxBytes usually binds first: about 1,500 readings in 64 KiB). */
export const MAX_BATCH_READINGS = 10_000;

const bad = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, `tx.body.${field}`);

function check(b: TelemetryBatchBody): void {
  if (!Number.isSafeInteger(b.keyHeight) || b.keyHeight < 0) throw bad('keyHeight', 'must be a non-negative integer');
  if (!Array.isArray(b.readings) || b.readings.length === 0 || b.readings.length > MAX_BATCH_READINGS)
    throw bad('readings', `must hold 1..${MAX_BATCH_READINGS} readings`);
  if (!(b.signature instanceof Uint8Array) || b.signature.length !== BLS_SIGNATURE_LENGTH) throw bad('signature', `must be ${BLS_SIGNATURE_LENGTH} bytes`);
}

export function encodeTelemetryBatchBody(b: TelemetryBatchBody): Uint8Array {
  check(b);
  return encode([b.keyHeight, b.readings.map((r) => readingToWire(r)), b.signature]);
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.*` (a reading: `tx.body.readings[i].field`). */
export function decodeTelemetryBatchBody(bytes: Uint8Array): TelemetryBatchBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 3);
  const list = readArray(f[1]!, 'tx.body.readings');
  if (list.length === 0 || list.length > MAX_BATCH_READINGS) throw bad('readings', `must hold 1..${MAX_BATCH_READINGS} readings`);
  const body: TelemetryBatchBody = {
    keyHeight: readUint(f[0]!, 'tx.body.keyHeight'),
    readings: list.map((r, i) => readingFromWire(r, `tx.body.readings[${i}]`)),
    signature: readBytes(f[2]!, 'tx.body.signature', BLS_SIGNATURE_LENGTH),
  };
  check(body);
  return body;
}

export function buildTelemetryBatch(args: SenderArgs & TelemetryBatchBody): Tx {
  return signBody(args, TxType.telemetryBatch, encodeTelemetryBatchBody({ keyHeight: args.keyHeight, readings: args.readings, signature: args.signature }));
}
