import { decode, encode, readAmount, readArray, readBytes, readString, readUint, type Encodable } from './codec.ts';
import { MAX_DEVICE_ID_LENGTH } from './device.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { ADDRESS_LENGTH } from './keys.ts';

/**
 * Flexibility and dispatch: the vocabulary of vm/flex/, state/flex.ts, RPC and the CLI.
 * An aggregator offers its fleet's flexibility (a bid), a dso activates it for a window
 * (power), the aggregator confirms within FLEX_CONFIRM_WINDOW_MS, and each interval of the
 * window settles against the fleet's meters. All integers: power in kW, prices in
 * micro-units of the settlement currency per MWh, energy in Wh, money in micro-units.
 */

/** Devices one bid names at most (a fleet's command fits one anchored command, and its settlement one work budget). */
export const MAX_FLEX_FLEET = 256;
/** The largest power a bid offers or an activation asks for: 10 GW, in kW (core/device.ts MAX_POWER_W). */
export const MAX_FLEX_KW = 10_000_000;
/** A bid's availability window lasts at most a week. */
export const MAX_FLEX_AVAILABILITY_MS = 7 * 86_400_000;
/** An activation's window lasts at most a day (its anchored command's longest window, core/command.ts). */
export const MAX_FLEX_ACTIVATION_MS = 86_400_000;
/** The aggregator confirms an activation within 30 s of the activating block's time; later, the activation lapses. */
export const FLEX_CONFIRM_WINDOW_MS = 30_000;
/** Intervals before an activation's window whose mean is its baseline. */
export const FLEX_BASELINE_INTERVALS = 4;

/** An aggregator's offer (tx flex-bid, type 42); its id is the tx hash. */
/** What an aggregator offers (tx 42's body, core/tx/flex-bid.ts): the fleet and its terms. */
export interface FlexBidTerms {
  /** The fleet: devices the aggregator operates, strictly ascending. */
  readonly deviceIds: readonly string[];
  readonly capacityKw: number;
  readonly rampUpKwPerMin: number;
  readonly rampDownKwPerMin: number;
  /** State of charge the fleet keeps between, percent (terms for the dso; the chain does not meter them). */
  readonly minSocPercent: number;
  readonly maxSocPercent: number;
  /** Micro-units per MWh delivered. */
  readonly pricePerMwh: bigint;
  /** Availability [from, until), ms. */
  readonly availableFromMs: number;
  readonly availableUntilMs: number;
}

export interface FlexBid extends FlexBidTerms {
  readonly aggregator: Uint8Array;
  readonly height: number;
  /** End of the latest activation's window (0 before any): a new activation starts at or after it. */
  readonly reservedUntilMs: number;
}

export const ACTIVATION_STATUSES = ['pending', 'confirmed', 'lapsed', 'settled'] as const;
/** pending: waiting for the aggregator's confirmation; confirmed: settling interval by interval; lapsed: not confirmed in time; settled: every interval settled. */
export type ActivationStatus = (typeof ACTIVATION_STATUSES)[number];

/** A dso's activation of a bid (tx flex-activate, type 43); its id is the tx hash. */
export interface FlexActivation {
  readonly bidId: Uint8Array;
  readonly dso: Uint8Array;
  readonly aggregator: Uint8Array;
  readonly powerKw: number;
  /** The bid's ramp-up rate when activated: the fleet reaches powerKw that fast from the window's start (activationTargetWh). */
  readonly rampUpKwPerMin: number;
  /** The window [start, end), ms, aligned to settlement intervals. */
  readonly startMs: number;
  readonly endMs: number;
  readonly pricePerMwh: bigint;
  /** The activating block's time and height. */
  readonly activatedAtMs: number;
  readonly height: number;
  readonly status: ActivationStatus;
  readonly confirmedAtMs: number | undefined;
  /** The grid command the activation anchored (state/commands.ts). */
  readonly commandHash: Uint8Array;
  /** The dso's escrow still locked for the payments to come. */
  readonly escrow: bigint;
  /** The fleet's baseline net export per interval, Wh (signed), fixed when the first interval settles. */
  readonly baselineWh: bigint | undefined;
  /** Baseline intervals with meter data (0..FLEX_BASELINE_INTERVALS). */
  readonly baselineIntervals: number;
  readonly settledIntervals: number;
  readonly deliveredWh: bigint;
  readonly paid: bigint;
  readonly penalty: bigint;
}

/** How one interval of an activation settled. */
export interface FlexIntervalResult {
  /** The fleet's metered net export in the interval, Wh (signed: import negative). */
  readonly meteredWh: bigint;
  readonly baselineWh: bigint;
  /** The activated energy: floor(powerKw x intervalMs / 3600). */
  readonly targetWh: bigint;
  /** min(max(metered - baseline, 0), target). */
  readonly deliveredWh: bigint;
  readonly payment: bigint;
  readonly penaltyDue: bigint;
  /** What the aggregator's balance covered of the penalty. */
  readonly penalty: bigint;
  readonly height: number;
}

/** How one target device of a priced command settled in one interval. */
export interface CommandPayment {
  readonly owner: Uint8Array;
  readonly exportWh: bigint;
  /** The commanded limit over the part of the interval in the window. */
  readonly limitWh: bigint;
  readonly due: bigint;
  /** What the issuer's balance covered. */
  readonly paid: bigint;
  readonly height: number;
}

const corrupt = (field: string, why: string) => new JouleError(ErrorCode.CODEC_WRONG_TYPE, why, field);

function readInt(v: Encodable, field: string): bigint {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'bigint') return v;
  throw corrupt(field, 'expected integer');
}

const optional = <T>(v: Encodable | undefined, read: (v: Encodable) => T): T | undefined => (v === null || v === undefined ? undefined : read(v));

// ---- bid: [aggregator, deviceIds, capacityKw, rampUp, rampDown, minSoc, maxSoc, pricePerMwh, from, until, height, reservedUntilMs] ----

export function encodeFlexBid(b: FlexBid): Uint8Array {
  return encode([
    b.aggregator,
    [...b.deviceIds],
    b.capacityKw,
    b.rampUpKwPerMin,
    b.rampDownKwPerMin,
    b.minSocPercent,
    b.maxSocPercent,
    b.pricePerMwh,
    b.availableFromMs,
    b.availableUntilMs,
    b.height,
    b.reservedUntilMs,
  ]);
}

export function decodeFlexBid(bytes: Uint8Array): FlexBid {
  const f = readArray(decode(bytes, 'flexBid'), 'flexBid', 12);
  return {
    aggregator: readBytes(f[0]!, 'flexBid.aggregator', ADDRESS_LENGTH),
    deviceIds: readArray(f[1]!, 'flexBid.deviceIds').map((v, i) => readString(v, `flexBid.deviceIds[${i}]`, MAX_DEVICE_ID_LENGTH)),
    capacityKw: readUint(f[2]!, 'flexBid.capacityKw'),
    rampUpKwPerMin: readUint(f[3]!, 'flexBid.rampUpKwPerMin'),
    rampDownKwPerMin: readUint(f[4]!, 'flexBid.rampDownKwPerMin'),
    minSocPercent: readUint(f[5]!, 'flexBid.minSocPercent'),
    maxSocPercent: readUint(f[6]!, 'flexBid.maxSocPercent'),
    pricePerMwh: readAmount(f[7]!, 'flexBid.pricePerMwh'),
    availableFromMs: readUint(f[8]!, 'flexBid.availableFromMs'),
    availableUntilMs: readUint(f[9]!, 'flexBid.availableUntilMs'),
    height: readUint(f[10]!, 'flexBid.height'),
    reservedUntilMs: readUint(f[11]!, 'flexBid.reservedUntilMs'),
  };
}

// ---- activation: [bidId, dso, aggregator, powerKw, startMs, endMs, pricePerMwh, activatedAtMs, height, status,
//      confirmedAtMs | nil, commandHash, escrow, baselineWh | nil, baselineIntervals, settledIntervals, deliveredWh, paid, penalty,
//      rampUpKwPerMin] ----

export function encodeFlexActivation(a: FlexActivation): Uint8Array {
  return encode([
    a.bidId,
    a.dso,
    a.aggregator,
    a.powerKw,
    a.startMs,
    a.endMs,
    a.pricePerMwh,
    a.activatedAtMs,
    a.height,
    ACTIVATION_STATUSES.indexOf(a.status),
    a.confirmedAtMs ?? null,
    a.commandHash,
    a.escrow,
    a.baselineWh ?? null,
    a.baselineIntervals,
    a.settledIntervals,
    a.deliveredWh,
    a.paid,
    a.penalty,
    a.rampUpKwPerMin,
  ]);
}

export function decodeFlexActivation(bytes: Uint8Array): FlexActivation {
  const f = readArray(decode(bytes, 'flexActivation'), 'flexActivation', 20);
  const status = ACTIVATION_STATUSES[readUint(f[9]!, 'flexActivation.status')];
  if (status === undefined) throw corrupt('flexActivation.status', 'unknown activation status');
  return {
    bidId: readBytes(f[0]!, 'flexActivation.bidId', 32),
    dso: readBytes(f[1]!, 'flexActivation.dso', ADDRESS_LENGTH),
    aggregator: readBytes(f[2]!, 'flexActivation.aggregator', ADDRESS_LENGTH),
    powerKw: readUint(f[3]!, 'flexActivation.powerKw'),
    rampUpKwPerMin: readUint(f[19]!, 'flexActivation.rampUpKwPerMin'),
    startMs: readUint(f[4]!, 'flexActivation.startMs'),
    endMs: readUint(f[5]!, 'flexActivation.endMs'),
    pricePerMwh: readAmount(f[6]!, 'flexActivation.pricePerMwh'),
    activatedAtMs: readUint(f[7]!, 'flexActivation.activatedAtMs'),
    height: readUint(f[8]!, 'flexActivation.height'),
    status,
    confirmedAtMs: optional(f[10], (v) => readUint(v, 'flexActivation.confirmedAtMs')),
    commandHash: readBytes(f[11]!, 'flexActivation.commandHash', 32),
    escrow: readAmount(f[12]!, 'flexActivation.escrow'),
    baselineWh: optional(f[13], (v) => readInt(v, 'flexActivation.baselineWh')),
    baselineIntervals: readUint(f[14]!, 'flexActivation.baselineIntervals'),
    settledIntervals: readUint(f[15]!, 'flexActivation.settledIntervals'),
    deliveredWh: readAmount(f[16]!, 'flexActivation.deliveredWh'),
    paid: readAmount(f[17]!, 'flexActivation.paid'),
    penalty: readAmount(f[18]!, 'flexActivation.penalty'),
  };
}

// ---- interval result: [meteredWh, baselineWh, targetWh, deliveredWh, payment, penaltyDue, penalty, height] ----

export function encodeFlexIntervalResult(r: FlexIntervalResult): Uint8Array {
  return encode([r.meteredWh, r.baselineWh, r.targetWh, r.deliveredWh, r.payment, r.penaltyDue, r.penalty, r.height]);
}

export function decodeFlexIntervalResult(bytes: Uint8Array): FlexIntervalResult {
  const f = readArray(decode(bytes, 'flexInterval'), 'flexInterval', 8);
  return {
    meteredWh: readInt(f[0]!, 'flexInterval.meteredWh'),
    baselineWh: readInt(f[1]!, 'flexInterval.baselineWh'),
    targetWh: readAmount(f[2]!, 'flexInterval.targetWh'),
    deliveredWh: readAmount(f[3]!, 'flexInterval.deliveredWh'),
    payment: readAmount(f[4]!, 'flexInterval.payment'),
    penaltyDue: readAmount(f[5]!, 'flexInterval.penaltyDue'),
    penalty: readAmount(f[6]!, 'flexInterval.penalty'),
    height: readUint(f[7]!, 'flexInterval.height'),
  };
}

// ---- command payment: [owner, exportWh, limitWh, due, paid, height] ----

export function encodeCommandPayment(p: CommandPayment): Uint8Array {
  return encode([p.owner, p.exportWh, p.limitWh, p.due, p.paid, p.height]);
}

export function decodeCommandPayment(bytes: Uint8Array): CommandPayment {
  const f = readArray(decode(bytes, 'commandPayment'), 'commandPayment', 6);
  return {
    owner: readBytes(f[0]!, 'commandPayment.owner', ADDRESS_LENGTH),
    exportWh: readAmount(f[1]!, 'commandPayment.exportWh'),
    limitWh: readAmount(f[2]!, 'commandPayment.limitWh'),
    due: readAmount(f[3]!, 'commandPayment.due'),
    paid: readAmount(f[4]!, 'commandPayment.paid'),
    height: readUint(f[5]!, 'commandPayment.height'),
  };
}

// ---- arithmetic (integers only; each rounding next to it) ----

/**
 * Energy the fleet delivers from `fromMs` to `toMs` after an activation's start, Wh, when its
 * power rises from 0 at `rampUpKwPerMin` until it reaches `powerKw`, then holds: the area
 * under min(P, R x t / 60,000) with t in ms. In units of 1 / (432,000,000 x R) Wh the area
 * up to t is, with x = t x R, x^2 while x <= 60,000 P (still ramping), else
 * 120,000 P x - 3,600,000,000 P^2. Each end is rounded down, so the intervals of a window
 * add up exactly to the whole window's energy (rounded down once).
 */
export function rampedEnergyWh(powerKw: number, rampUpKwPerMin: number, fromMs: number, toMs: number): bigint {
  const P = BigInt(powerKw);
  const R = BigInt(rampUpKwPerMin);
  const full = 60_000n * P;
  const area = (t: number): bigint => {
    const x = BigInt(t) * R;
    return x <= full ? x * x : 120_000n * P * x - 3_600_000_000n * P * P;
  };
  const unit = 432_000_000n * R;
  return area(toMs) / unit - area(fromMs) / unit;
}

/** What an activation asks of its fleet in the interval starting at `intervalStartMs`, Wh (rampedEnergyWh). */
export function activationTargetWh(
  a: Pick<FlexActivation, 'powerKw' | 'rampUpKwPerMin' | 'startMs'>,
  intervalStartMs: number,
  settlementIntervalMs: number,
): bigint {
  const from = intervalStartMs - a.startMs;
  return rampedEnergyWh(a.powerKw, a.rampUpKwPerMin, from, from + settlementIntervalMs);
}

/** Money for `wh` at `pricePerMwh`, rounded down (the payer never pays for a fraction of a Wh): wh x price / 10^6. */
export function flexPayment(wh: bigint, pricePerMwh: bigint): bigint {
  return (wh * pricePerMwh) / 1_000_000n;
}

/** The dso's escrow for `wh`, rounded up (it covers every rounded-down payment): ceil(wh x price / 10^6). */
export function flexEscrow(wh: bigint, pricePerMwh: bigint): bigint {
  return (wh * pricePerMwh + 999_999n) / 1_000_000n;
}

/** The shortfall penalty: `bps` of the price per undelivered kWh, rounded down: wh x price x bps / (10^6 x 10^4). */
export function flexPenalty(shortfallWh: bigint, pricePerMwh: bigint, bps: number): bigint {
  return (shortfallWh * pricePerMwh * BigInt(bps)) / 10_000_000_000n;
}

/** Floor division of a signed numerator by a positive divisor (bigint `/` truncates toward zero). */
export function floorDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  return n % d !== 0n && n < 0n ? q - 1n : q;
}
