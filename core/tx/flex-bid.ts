import { decode, encode, readAmount, readArray, readString, readUint } from '../codec.ts';
import { checkDeviceId, MAX_DEVICE_ID_LENGTH } from '../device.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import { type FlexBidTerms, MAX_FLEX_AVAILABILITY_MS, MAX_FLEX_FLEET, MAX_FLEX_KW } from '../flex.ts';
import { MAX_PRICE_CAP } from '../params.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/**
 * Type 42, flex-bid: an aggregator offers its fleet's flexibility. Wire form:
 * [deviceIds, capacityKw, rampUpKwPerMin, rampDownKwPerMin, minSocPercent, maxSocPercent,
 *  pricePerMwh, availableFromMs, availableUntilMs].
 * The fleet is 1..MAX_FLEX_FLEET devices the sender operates, strictly ascending (a client
 * offering "all my devices" lists them: `joule flex bid` does). Power and ramps in integer
 * kW (1..MAX_FLEX_KW), state of charge in percent (min <= max <= 100), the price in
 * micro-units per MWh (1.. the chain's price cap x 1000, checked against the params in the
 * vm), availability [from, until) in ms, at most MAX_FLEX_AVAILABILITY_MS long.
 */
export type FlexBidBody = FlexBidTerms;

const bad = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, `tx.body.${field}`);

function kw(v: number, field: string): void {
  if (!Number.isSafeInteger(v) || v < 1 || v > MAX_FLEX_KW) throw bad(field, `must be an integer number of kW, 1..${MAX_FLEX_KW}`);
}

function percent(v: number, field: string): void {
  if (!Number.isSafeInteger(v) || v < 0 || v > 100) throw bad(field, 'must be an integer percentage, 0..100');
}

function check(b: FlexBidBody): void {
  if (!Array.isArray(b.deviceIds) || b.deviceIds.length === 0 || b.deviceIds.length > MAX_FLEX_FLEET)
    throw bad('deviceIds', `must name 1..${MAX_FLEX_FLEET} devices`);
  b.deviceIds.forEach((id, i) => {
    checkDeviceId(id, `tx.body.deviceIds[${i}]`);
    if (i > 0 && !(b.deviceIds[i - 1]! < id)) throw bad(`deviceIds[${i}]`, 'device ids must be strictly ascending (sorted, no repeats)');
  });
  kw(b.capacityKw, 'capacityKw');
  kw(b.rampUpKwPerMin, 'rampUpKwPerMin');
  kw(b.rampDownKwPerMin, 'rampDownKwPerMin');
  percent(b.minSocPercent, 'minSocPercent');
  percent(b.maxSocPercent, 'maxSocPercent');
  if (b.maxSocPercent < b.minSocPercent) throw bad('maxSocPercent', `must be at least minSocPercent (${b.minSocPercent})`);
  if (typeof b.pricePerMwh !== 'bigint' || b.pricePerMwh < 1n || b.pricePerMwh > MAX_PRICE_CAP)
    throw bad('pricePerMwh', 'must be a positive integer (micro-units per MWh)');
  if (!Number.isSafeInteger(b.availableFromMs) || b.availableFromMs < 0) throw bad('availableFromMs', 'must be a non-negative integer (ms)');
  if (!Number.isSafeInteger(b.availableUntilMs) || b.availableUntilMs <= b.availableFromMs) throw bad('availableUntilMs', 'must be after availableFromMs');
  if (b.availableUntilMs - b.availableFromMs > MAX_FLEX_AVAILABILITY_MS)
    throw bad('availableUntilMs', `availability may last at most ${MAX_FLEX_AVAILABILITY_MS} ms (7 days)`);
}

const wire = (b: FlexBidBody) => [
  [...b.deviceIds],
  b.capacityKw,
  b.rampUpKwPerMin,
  b.rampDownKwPerMin,
  b.minSocPercent,
  b.maxSocPercent,
  b.pricePerMwh,
  b.availableFromMs,
  b.availableUntilMs,
];

export function encodeFlexBidBody(b: FlexBidBody): Uint8Array {
  check(b);
  return encode(wire(b));
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.*`. */
export function decodeFlexBidBody(bytes: Uint8Array): FlexBidBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 9);
  const ids = readArray(f[0]!, 'tx.body.deviceIds');
  if (ids.length === 0 || ids.length > MAX_FLEX_FLEET) throw bad('deviceIds', `must name 1..${MAX_FLEX_FLEET} devices, got ${ids.length}`);
  const body: FlexBidBody = {
    deviceIds: ids.map((v, i) => readString(v, `tx.body.deviceIds[${i}]`, MAX_DEVICE_ID_LENGTH)),
    capacityKw: readUint(f[1]!, 'tx.body.capacityKw'),
    rampUpKwPerMin: readUint(f[2]!, 'tx.body.rampUpKwPerMin'),
    rampDownKwPerMin: readUint(f[3]!, 'tx.body.rampDownKwPerMin'),
    minSocPercent: readUint(f[4]!, 'tx.body.minSocPercent'),
    maxSocPercent: readUint(f[5]!, 'tx.body.maxSocPercent'),
    pricePerMwh: readAmount(f[6]!, 'tx.body.pricePerMwh'),
    availableFromMs: readUint(f[7]!, 'tx.body.availableFromMs'),
    availableUntilMs: readUint(f[8]!, 'tx.body.availableUntilMs'),
  };
  check(body);
  return body;
}

/** The body as JSON (the VM's describe, the CLI's summary): the price as a decimal string. */
export function describeFlexBid(b: FlexBidBody): Record<string, unknown> {
  return { ...b, deviceIds: [...b.deviceIds], pricePerMwh: b.pricePerMwh.toString() };
}

export function buildFlexBid(args: SenderArgs & FlexBidBody): Tx {
  return signBody(args, TxType.flexBid, encodeFlexBidBody(args));
}
