import type { BlockEvent } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { hasRole } from '../../core/roles.ts';
import { decodeFlexBidBody, describeFlexBid, type FlexBidBody } from '../../core/tx/flex-bid.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { deviceKey } from '../../state/devices.ts';
import { putFlexBid } from '../../state/flex.ts';
import type { StateReader } from '../../state/overlay.ts';
import { addressText, readAccount } from '../accounts.ts';
import { requireDevice, requireNotRevoked } from '../devices/rules.ts';
import type { ChainContext, ExecContext, TxHandler } from '../types.ts';

/**
 * Type 42, flex-bid: an aggregator offers its fleet's flexibility; the bid's id is the tx
 * hash. Rules: the sender holds the aggregator role and operates every device of the fleet
 * (registered, not revoked); the capacity is at most what the fleet can shift, the sum of
 * its devices' import and export limits (dropping a load and feeding in both count), in
 * kW rounded down; the price at most the chain's price cap per kWh x 1000; the
 * availability not over by the block's time. Nothing is locked: the dso's activation
 * escrows the payment, the aggregator's shortfall penalty comes from its balance.
 */

function validate(body: FlexBidBody, _tx: Tx, ctx: ChainContext): void {
  const cap = ctx.params.priceCap * 1000n;
  if (body.pricePerMwh > cap)
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `${body.pricePerMwh} is above the chain's price cap of ${cap} per MWh`, 'tx.body.pricePerMwh');
}

function checkState(state: StateReader, body: FlexBidBody, tx: Tx, ctx: ChainContext): void {
  if (!hasRole(readAccount(state, tx.from).roles, 'aggregator'))
    throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `${addressText(tx.from)} does not hold the aggregator role`, 'tx.sender');
  let shiftW = 0;
  body.deviceIds.forEach((id, i) => {
    const field = `tx.body.deviceIds[${i}]`;
    const d = requireDevice(state, id, field);
    requireNotRevoked(d, field);
    if (!equalBytes(d.operator, tx.from))
      throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `${addressText(tx.from)} does not operate device ${JSON.stringify(id)}`, field);
    shiftW += d.maxImportW + d.maxExportW;
  });
  // W / 1000, rounded down: the capacity never exceeds what the devices can shift.
  const fleetKw = Math.floor(shiftW / 1000);
  if (body.capacityKw > fleetKw)
    throw new JouleError(
      ErrorCode.FLEX_CAPACITY,
      `the fleet shifts at most ${fleetKw} kW (its import and export limits), not ${body.capacityKw}`,
      'tx.body.capacityKw',
    );
  if (ctx.timestamp !== undefined && body.availableUntilMs <= ctx.timestamp)
    throw new JouleError(
      ErrorCode.FLEX_WINDOW,
      `the availability ended at ${body.availableUntilMs} ms, not after the block time ${ctx.timestamp} ms`,
      'tx.body.availableUntilMs',
    );
}

function execute({ state, tx, body, block }: ExecContext<FlexBidBody>): BlockEvent[] {
  putFlexBid(state, tx.hash, { aggregator: tx.from, ...body, height: block.height, reservedUntilMs: 0 }, true);
  return [
    {
      type: 'flex-bid',
      attributes: [
        ['bid', toHex(tx.hash)],
        ['aggregator', addressText(tx.from)],
        ['devices', String(body.deviceIds.length)],
        ['capacityKw', String(body.capacityKw)],
        ['pricePerMwh', body.pricePerMwh.toString()],
        ['availableFromMs', String(body.availableFromMs)],
        ['availableUntilMs', String(body.availableUntilMs)],
      ],
    },
  ];
}

export const flexBidHandler: TxHandler<FlexBidBody> = {
  type: TxType.flexBid,
  name: 'flex-bid',
  tier: 'grid_balancing',
  decodeBody: decodeFlexBidBody,
  validate,
  spend: () => 0n,
  keys: (body) => body.deviceIds.map(deviceKey),
  checkState,
  execute,
  describe: describeFlexBid,
};
