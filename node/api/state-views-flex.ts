import { utf8Text } from '../../core/bytes.ts';
import { isDeviceId } from '../../core/device.ts';
import {
  decodeCommandPayment,
  decodeFlexActivation,
  decodeFlexBid,
  decodeFlexIntervalResult,
  type CommandPayment,
  type FlexActivation,
  type FlexBid,
  type FlexIntervalResult,
} from '../../core/flex.ts';
import { FlexBucket } from '../../core/state-keys.ts';

/**
 * Flexibility records read by a client, decoded by the kind their key names
 * (core/state-keys.ts FlexBucket). None of them holds its own id, so the id (and the
 * interval, the device) comes from the key, as for interval totals.
 */
export type FlexStateView =
  | { readonly kind: 'flex-bid'; readonly bidId: Uint8Array; readonly bid: FlexBid }
  | { readonly kind: 'flex-activation'; readonly activationId: Uint8Array; readonly activation: FlexActivation }
  | { readonly kind: 'flex-interval'; readonly activationId: Uint8Array; readonly intervalStartMs: number; readonly result: FlexIntervalResult }
  | {
      readonly kind: 'command-payment';
      readonly commandHash: Uint8Array;
      readonly intervalStartMs: number;
      readonly deviceId: string;
      readonly payment: CommandPayment;
    };

/** Bid and activation ids are tx hashes, a command's is its hash: 32 bytes each. */
const ID_LENGTH = 32;
const ID_END = 2 + ID_LENGTH;

/** The u64be at `offset` as a number, or undefined past the safe integers (no interval starts there). */
function u64At(key: Uint8Array, offset: number): number | undefined {
  const n = new DataView(key.buffer, key.byteOffset + offset, 8).getBigUint64(0);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : undefined;
}

/**
 * `value` under a key of StatePrefix.flex; throws on bytes that do not decode (the caller
 * turns that into undefined). undefined for a key of another bucket or of the wrong shape.
 */
export function decodeFlexValue(key: Uint8Array, value: Uint8Array): FlexStateView | undefined {
  if (key.length < ID_END) return undefined;
  const id = key.slice(2, ID_END);
  if (key[1] === FlexBucket.bid && key.length === ID_END) return { kind: 'flex-bid', bidId: id, bid: decodeFlexBid(value) };
  if (key[1] === FlexBucket.activation && key.length === ID_END) return { kind: 'flex-activation', activationId: id, activation: decodeFlexActivation(value) };
  const start = key.length >= ID_END + 8 ? u64At(key, ID_END) : undefined;
  if (start === undefined) return undefined;
  if (key[1] === FlexBucket.interval && key.length === ID_END + 8)
    return { kind: 'flex-interval', activationId: id, intervalStartMs: start, result: decodeFlexIntervalResult(value) };
  if (key[1] === FlexBucket.commandPayment) {
    const deviceId = utf8Text(key.subarray(ID_END + 8));
    if (!isDeviceId(deviceId)) return undefined;
    return { kind: 'command-payment', commandHash: id, intervalStartMs: start, deviceId, payment: decodeCommandPayment(value) };
  }
  return undefined;
}
