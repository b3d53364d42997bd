import type { CommandRecord } from '../../core/command.ts';
import type { FlexBid } from '../../core/flex.ts';
import type { FlexActivateBody } from '../../core/tx/flex-activate.ts';

/**
 * The grid command an activation sends its bid's fleet (core/command.ts): DISCHARGE, every
 * device of the fleet, each up to its share of the activated power, ceil(power W / devices)
 * (the aggregator dispatches within its fleet; the share is what each may be asked for),
 * at the bid's price per kWh, floor(price per MWh / 1000), for the activation's window. The
 * activation anchors it under its hash like a command-anchor tx (issuer: the dso), so a
 * proof of the command key shows what the fleet was told; it is not settled as a priced
 * command (vm/flex/settlement.ts): the activation's own settlement pays for it.
 */
export function fleetCommand(dso: Uint8Array, bid: Pick<FlexBid, 'deviceIds' | 'pricePerMwh'>, body: Pick<FlexActivateBody, 'powerKw' | 'startMs' | 'endMs'>): CommandRecord {
  const n = bid.deviceIds.length;
  return {
    issuer: dso,
    type: 1,
    deviceIds: [...bid.deviceIds],
    zone: undefined,
    // Rounded up: the shares together cover the activated power.
    powerLimitW: Math.ceil((body.powerKw * 1000) / n),
    // Rounded down: the command tells a device what the grid pays at most.
    priceMicroPerKwh: bid.pricePerMwh / 1000n,
    validFromUs: BigInt(body.startMs) * 1000n,
    validUntilUs: BigInt(body.endMs) * 1000n,
  };
}
