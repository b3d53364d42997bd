/**
 * JSON shapes of flexibility bids, activations and settled intervals (docs/json-rpc.md
 * Flexibility). Pure, like json-format.ts: no lookups, testable from plain values.
 */
import { FLEX_CONFIRM_WINDOW_MS, type FlexActivation, type FlexBid, type FlexIntervalResult } from '../../core/flex.ts';
import type { FlexActivationJson, FlexBidJson, FlexIntervalJson } from '../../core/flex-query.ts';
import { formatAddress } from '../../core/keys.ts';
import { flexActivationKey, flexBidKey, flexIntervalKey } from '../../core/state-keys.ts';
import { hex } from './json-format.ts';

export function formatFlexBid(id: Uint8Array, b: FlexBid): FlexBidJson {
  return {
    id: hex(id),
    aggregator: formatAddress(b.aggregator),
    deviceIds: [...b.deviceIds],
    capacityKw: b.capacityKw,
    rampUpKwPerMin: b.rampUpKwPerMin,
    rampDownKwPerMin: b.rampDownKwPerMin,
    minSocPercent: b.minSocPercent,
    maxSocPercent: b.maxSocPercent,
    pricePerMwh: b.pricePerMwh.toString(),
    availableFromMs: b.availableFromMs,
    availableUntilMs: b.availableUntilMs,
    height: b.height,
    reservedUntilMs: b.reservedUntilMs,
    stateKey: hex(flexBidKey(id)),
  };
}

export function formatFlexActivation(id: Uint8Array, a: FlexActivation): FlexActivationJson {
  return {
    id: hex(id),
    bidId: hex(a.bidId),
    dso: formatAddress(a.dso),
    aggregator: formatAddress(a.aggregator),
    powerKw: a.powerKw,
    rampUpKwPerMin: a.rampUpKwPerMin,
    startMs: a.startMs,
    endMs: a.endMs,
    pricePerMwh: a.pricePerMwh.toString(),
    activatedAtMs: a.activatedAtMs,
    confirmByMs: a.activatedAtMs + FLEX_CONFIRM_WINDOW_MS,
    height: a.height,
    status: a.status,
    confirmedAtMs: a.confirmedAtMs ?? null,
    commandHash: hex(a.commandHash),
    escrow: a.escrow.toString(),
    baselineWh: a.baselineWh === undefined ? null : a.baselineWh.toString(),
    baselineIntervals: a.baselineIntervals,
    settledIntervals: a.settledIntervals,
    deliveredWh: a.deliveredWh.toString(),
    paid: a.paid.toString(),
    penalty: a.penalty.toString(),
    stateKey: hex(flexActivationKey(id)),
  };
}

export function formatFlexInterval(activationId: Uint8Array, intervalStartMs: number, r: FlexIntervalResult): FlexIntervalJson {
  return {
    intervalStartMs,
    meteredWh: r.meteredWh.toString(),
    baselineWh: r.baselineWh.toString(),
    targetWh: r.targetWh.toString(),
    deliveredWh: r.deliveredWh.toString(),
    payment: r.payment.toString(),
    penaltyDue: r.penaltyDue.toString(),
    penalty: r.penalty.toString(),
    height: r.height,
    stateKey: hex(flexIntervalKey(activationId, intervalStartMs)),
  };
}
