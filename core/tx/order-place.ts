import { decode, encode, readAmount, readArray, readString, readUint } from '../codec.ts';
import { checkDeviceId, checkZone, MAX_DEVICE_ID_LENGTH, MAX_ZONE_LENGTH } from '../device.ts';
import { MAX_ENERGY_WH } from '../energy.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import type { Side } from '../market.ts';
import { MAX_PRICE_CAP } from '../params.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/**
 * Type 32, order-place: a bid (buy) or an ask (sell) in the market (zone, interval).
 * Wire form: [side (0 bid, 1 ask), zone, intervalStartMs, volumeWh, price, deviceId | ""].
 * Volume in Wh (1..MAX_ENERGY_WH), limit price in micro-units per kWh (1..the chain's
 * price cap, checked against the params in the vm). An ask names the device that delivers;
 * a bid may name the device that consumes.
 */
export interface OrderPlaceBody {
  readonly side: Side;
  readonly zone: string;
  readonly intervalStartMs: number;
  readonly volumeWh: bigint;
  readonly price: bigint;
  readonly deviceId: string | undefined;
}

const bad = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, `tx.body.${field}`);

function check(b: OrderPlaceBody): void {
  if (b.side !== 'bid' && b.side !== 'ask') throw bad('side', 'must be bid or ask');
  checkZone(b.zone, 'tx.body.zone');
  if (!Number.isSafeInteger(b.intervalStartMs) || b.intervalStartMs < 0) throw bad('intervalStartMs', 'must be a non-negative integer (ms)');
  if (typeof b.volumeWh !== 'bigint' || b.volumeWh < 1n || b.volumeWh > MAX_ENERGY_WH)
    throw bad('volumeWh', `must be an integer number of Wh, 1..${MAX_ENERGY_WH}`);
  if (typeof b.price !== 'bigint' || b.price < 1n || b.price > MAX_PRICE_CAP) throw bad('price', 'must be a positive integer (micro-units per kWh)');
  if (b.deviceId !== undefined) checkDeviceId(b.deviceId, 'tx.body.deviceId');
  else if (b.side === 'ask') throw bad('deviceId', 'an ask names the device that delivers');
}

export function encodeOrderPlaceBody(b: OrderPlaceBody): Uint8Array {
  check(b);
  return encode([b.side === 'bid' ? 0 : 1, b.zone, b.intervalStartMs, b.volumeWh, b.price, b.deviceId ?? '']);
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.*`. */
export function decodeOrderPlaceBody(bytes: Uint8Array): OrderPlaceBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 6);
  const s = readUint(f[0]!, 'tx.body.side');
  if (s > 1) throw bad('side', `must be 0 (bid) or 1 (ask), got ${s}`);
  const device = readString(f[5]!, 'tx.body.deviceId', MAX_DEVICE_ID_LENGTH);
  const body: OrderPlaceBody = {
    side: s === 0 ? 'bid' : 'ask',
    zone: readString(f[1]!, 'tx.body.zone', MAX_ZONE_LENGTH),
    intervalStartMs: readUint(f[2]!, 'tx.body.intervalStartMs'),
    volumeWh: readAmount(f[3]!, 'tx.body.volumeWh'),
    price: readAmount(f[4]!, 'tx.body.price'),
    deviceId: device === '' ? undefined : device,
  };
  check(body);
  return body;
}

/** The body as JSON (the VM's describe, the CLI's summary): amounts as decimal strings, no device field when none. */
export function describeOrderPlace(b: OrderPlaceBody): Record<string, unknown> {
  return {
    side: b.side,
    zone: b.zone,
    intervalStartMs: b.intervalStartMs,
    volumeWh: b.volumeWh.toString(),
    price: b.price.toString(),
    ...(b.deviceId === undefined ? {} : { deviceId: b.deviceId }),
  };
}

export function buildOrderPlace(args: SenderArgs & OrderPlaceBody): Tx {
  const { side, zone, intervalStartMs, volumeWh, price, deviceId } = args;
  return signBody(args, TxType.orderPlace, encodeOrderPlaceBody({ side, zone, intervalStartMs, volumeWh, price, deviceId }));
}
