import type { CommandRecord } from '../../core/command.ts';
import type { FlexBid } from '../../core/flex.ts';
import { decodeFlexActivateBody, type FlexActivateBody } from '../../core/tx/flex-activate.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { getFlexBid } from '../../state/flex.ts';
import type { StateReader } from '../../state/overlay.ts';

/**
 * The grid command an activation sends its bid's fleet (core/command.ts): DISCHARGE, every
 * device of the fleet, each up to its share of the activated power, ceil(power W / devices)
 * (the aggregator dispatches within its fleet; the share is what each may be asked for),
 * at the bid's price per kWh, floor(price per MWh / 1000), for the activation's window. The
 * activation anchors it under its hash like a command-anchor tx (issuer: the dso), so a
 * proof of the command key shows what the fleet was told; it is not settled as a priced
 * command (vm/flex/settlement.ts): the activation's own settlement pays for it.
 */
export function fleetCommand(
  dso: Uint8Array,
  bid: Pick<FlexBid, 'deviceIds' | 'pricePerMwh'>,
  body: Pick<FlexActivateBody, 'powerKw' | 'startMs' | 'endMs'>,
): CommandRecord {
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

/**
 * The command a flex-activate tx will send, from the committed state its bid is in: what
 * the node announces to the fleet's devices when it admits the activation
 * (node/commands/issuer.ts), as it does for a command-anchor. undefined for another tx
 * type, a body that does not decode, or an unknown bid (admission refuses those).
 */
export function activationCommand(state: StateReader, tx: Pick<Tx, 'type' | 'body' | 'from'>): CommandRecord | undefined {
  if (tx.type !== TxType.flexActivate) return undefined;
  let body: FlexActivateBody;
  try {
    body = decodeFlexActivateBody(tx.body);
  } catch {
    return undefined;
  }
  const bid = getFlexBid(state, body.bidId);
  return bid === undefined ? undefined : fleetCommand(tx.from, bid, body);
}
