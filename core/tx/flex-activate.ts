import { decode, encode, readArray, readBytes, readUint } from '../codec.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import { MAX_FLEX_ACTIVATION_MS, MAX_FLEX_KW } from '../flex.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/**
 * Type 43, flex-activate: a dso activates a flexibility bid. Wire form: [bidId (32),
 * powerKw, startMs, endMs]. Power in integer kW (1..MAX_FLEX_KW, at most the bid's
 * capacity), the window [start, end) in ms, aligned to the settlement interval and at
 * most MAX_FLEX_ACTIVATION_MS long (both checked against the params and the bid in the vm).
 */
export interface FlexActivateBody {
  readonly bidId: Uint8Array;
  readonly powerKw: number;
  readonly startMs: number;
  readonly endMs: number;
}

const bad = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, `tx.body.${field}`);

function check(b: FlexActivateBody): void {
  if (!(b.bidId instanceof Uint8Array) || b.bidId.length !== 32) throw bad('bidId', 'must be a 32-byte bid id (the flex-bid tx hash)');
  if (!Number.isSafeInteger(b.powerKw) || b.powerKw < 1 || b.powerKw > MAX_FLEX_KW) throw bad('powerKw', `must be an integer number of kW, 1..${MAX_FLEX_KW}`);
  if (!Number.isSafeInteger(b.startMs) || b.startMs < 0) throw bad('startMs', 'must be a non-negative integer (ms)');
  if (!Number.isSafeInteger(b.endMs) || b.endMs <= b.startMs) throw bad('endMs', 'must be after startMs');
  if (b.endMs - b.startMs > MAX_FLEX_ACTIVATION_MS) throw bad('endMs', `an activation may last at most ${MAX_FLEX_ACTIVATION_MS} ms (one day)`);
}

export function encodeFlexActivateBody(b: FlexActivateBody): Uint8Array {
  check(b);
  return encode([b.bidId, b.powerKw, b.startMs, b.endMs]);
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.*`. */
export function decodeFlexActivateBody(bytes: Uint8Array): FlexActivateBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 4);
  const body: FlexActivateBody = {
    bidId: readBytes(f[0]!, 'tx.body.bidId', 32),
    powerKw: readUint(f[1]!, 'tx.body.powerKw'),
    startMs: readUint(f[2]!, 'tx.body.startMs'),
    endMs: readUint(f[3]!, 'tx.body.endMs'),
  };
  check(body);
  return body;
}

export function buildFlexActivate(args: SenderArgs & FlexActivateBody): Tx {
  const { bidId, powerKw, startMs, endMs } = args;
  return signBody(args, TxType.flexActivate, encodeFlexActivateBody({ bidId, powerKw, startMs, endMs }));
}
