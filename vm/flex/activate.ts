import type { BlockEvent } from '../../core/block.ts';
import { toHex } from '../../core/bytes.ts';
import { commandHash } from '../../core/command.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { FLEX_CONFIRM_WINDOW_MS, flexEscrow, rampedEnergyWh, type FlexBid } from '../../core/flex.ts';
import { hasRole } from '../../core/roles.ts';
import { decodeFlexActivateBody, type FlexActivateBody } from '../../core/tx/flex-activate.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { putAnchoredCommand } from '../../state/commands.ts';
import { flexBidKey, getFlexBid, putFlexActivation, putFlexBid, putQueueEntry } from '../../state/flex.ts';
import type { StateReader } from '../../state/overlay.ts';
import { addressText, readAccount, writeAccount } from '../accounts.ts';
import type { ChainContext, ExecContext, TxHandler } from '../types.ts';
import { fleetCommand } from './command.ts';

/**
 * Type 43, flex-activate: a dso activates a flexibility bid for a window; the activation's
 * id is the tx hash. Rules: the sender holds the dso role; the bid exists; the power is at
 * most its capacity; the window is aligned to settlement intervals, inside the bid's
 * availability, starts at or after the end of the bid's previous activation (a lapsed one
 * included: its window is not offered again) and not before the block's time; the dso's
 * balance covers the fee and the escrow, ceil(target x price / 10^6) with target the
 * window's energy when the fleet's power rises from 0 at the bid's ramp-up rate to powerKw
 * and holds (core/flex.ts rampedEnergyWh), locked until the intervals settle.
 *
 * The activation anchors the fleet's grid command (./command.ts fleetCommand) and queues
 * its confirmation deadline, FLEX_CONFIRM_WINDOW_MS after the block's time
 * (vm/flex/settlement.ts lapses it there if the aggregator has not confirmed).
 */

function validate(body: FlexActivateBody, _tx: Tx, ctx: ChainContext): void {
  const iv = ctx.params.settlementIntervalMs;
  if (body.startMs % iv !== 0) throw new JouleError(ErrorCode.TX_INVALID_FIELD, `must be a multiple of the settlement interval (${iv} ms)`, 'tx.body.startMs');
  if (body.endMs % iv !== 0) throw new JouleError(ErrorCode.TX_INVALID_FIELD, `must be a multiple of the settlement interval (${iv} ms)`, 'tx.body.endMs');
}

/** The escrow of an activation's whole window: its energy at the bid's ramp-up rate (core/flex.ts rampedEnergyWh) at the bid's price, rounded up. */
export function activationEscrow(body: FlexActivateBody, bid: Pick<FlexBid, 'rampUpKwPerMin' | 'pricePerMwh'>): bigint {
  return flexEscrow(rampedEnergyWh(body.powerKw, bid.rampUpKwPerMin, 0, body.endMs - body.startMs), bid.pricePerMwh);
}

function requireBid(state: StateReader, body: FlexActivateBody, tx: Tx, ctx: ChainContext): FlexBid {
  if (!hasRole(readAccount(state, tx.from).roles, 'dso'))
    throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `${addressText(tx.from)} does not hold the dso role`, 'tx.sender');
  const bid = getFlexBid(state, body.bidId);
  if (bid === undefined) throw new JouleError(ErrorCode.FLEX_BID_UNKNOWN, `no flexibility bid ${toHex(body.bidId)}`, 'tx.body.bidId');
  if (body.powerKw > bid.capacityKw)
    throw new JouleError(ErrorCode.FLEX_CAPACITY, `${body.powerKw} kW is above the bid's capacity of ${bid.capacityKw} kW`, 'tx.body.powerKw');
  if (body.startMs < bid.availableFromMs)
    throw new JouleError(ErrorCode.FLEX_WINDOW, `starts before the bid's availability (${bid.availableFromMs} ms)`, 'tx.body.startMs');
  if (body.endMs > bid.availableUntilMs)
    throw new JouleError(ErrorCode.FLEX_WINDOW, `ends after the bid's availability (${bid.availableUntilMs} ms)`, 'tx.body.endMs');
  if (body.startMs < bid.reservedUntilMs)
    throw new JouleError(ErrorCode.FLEX_WINDOW, `overlaps the bid's previous activation, whose window ends at ${bid.reservedUntilMs} ms`, 'tx.body.startMs');
  if (ctx.timestamp !== undefined && body.startMs < ctx.timestamp)
    throw new JouleError(ErrorCode.FLEX_WINDOW, `the window began at ${body.startMs} ms, before the block time ${ctx.timestamp} ms`, 'tx.body.startMs');
  const escrow = activationEscrow(body, bid);
  const balance = readAccount(state, tx.from).balance;
  if (balance < tx.fee + escrow)
    throw new JouleError(ErrorCode.TX_INSUFFICIENT_BALANCE, `balance ${balance} does not cover the fee and the escrow ${escrow}`, 'tx.body.powerKw');
  return bid;
}

function execute({ state, tx, body, block }: ExecContext<FlexActivateBody>): BlockEvent[] {
  const bid = requireBid(state, body, tx, block);
  const escrow = activationEscrow(body, bid);
  const dso = readAccount(state, tx.from);
  writeAccount(state, tx.from, { ...dso, balance: dso.balance - escrow, locked: dso.locked + escrow });
  const command = fleetCommand(tx.from, bid, body);
  const hash = commandHash(tx.chainId, command);
  putAnchoredCommand(state, hash, { ...command, height: block.height });
  putFlexBid(state, body.bidId, { ...bid, reservedUntilMs: body.endMs });
  putFlexActivation(
    state,
    tx.hash,
    {
      bidId: body.bidId,
      dso: tx.from,
      aggregator: bid.aggregator,
      powerKw: body.powerKw,
      rampUpKwPerMin: bid.rampUpKwPerMin,
      startMs: body.startMs,
      endMs: body.endMs,
      pricePerMwh: bid.pricePerMwh,
      activatedAtMs: block.timestamp,
      height: block.height,
      status: 'pending',
      confirmedAtMs: undefined,
      commandHash: hash,
      escrow,
      baselineWh: undefined,
      baselineIntervals: 0,
      settledIntervals: 0,
      deliveredWh: 0n,
      paid: 0n,
      penalty: 0n,
    },
    true,
  );
  // Due the first moment after the confirmation window: a confirmation at its very end still counts.
  putQueueEntry(state, {
    dueMs: block.timestamp + FLEX_CONFIRM_WINDOW_MS + 1,
    kind: 'deadline',
    id: tx.hash,
    intervalStartMs: body.startMs,
    payer: tx.from,
    payee: bid.aggregator,
    deviceIds: bid.deviceIds,
    owners: [],
  });
  return [
    {
      type: 'flex-activated',
      attributes: [
        ['activation', toHex(tx.hash)],
        ['bid', toHex(body.bidId)],
        ['dso', addressText(tx.from)],
        ['aggregator', addressText(bid.aggregator)],
        ['powerKw', String(body.powerKw)],
        ['startMs', String(body.startMs)],
        ['endMs', String(body.endMs)],
        ['escrow', escrow.toString()],
        ['commandHash', toHex(hash)],
        ['confirmByMs', String(block.timestamp + FLEX_CONFIRM_WINDOW_MS)],
      ],
    },
  ];
}

export const flexActivateHandler: TxHandler<FlexActivateBody> = {
  type: TxType.flexActivate,
  name: 'flex-activate',
  tier: 'grid_balancing',
  decodeBody: decodeFlexActivateBody,
  validate,
  spend: () => 0n,
  keys: (body) => [flexBidKey(body.bidId)],
  checkState: (state, body, tx, ctx) => void requireBid(state, body, tx, ctx),
  execute,
  describe: (body) => ({ bidId: `0x${toHex(body.bidId)}`, powerKw: body.powerKw, startMs: body.startMs, endMs: body.endMs }),
};
