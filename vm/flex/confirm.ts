import type { BlockEvent } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { FLEX_CONFIRM_WINDOW_MS, type FlexActivation } from '../../core/flex.ts';
import { decodeFlexConfirmBody, type FlexConfirmBody } from '../../core/tx/flex-confirm.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { flexActivationKey, getFlexActivation, putFlexActivation } from '../../state/flex.ts';
import type { StateReader } from '../../state/overlay.ts';
import { addressText } from '../accounts.ts';
import type { ChainContext, ExecContext, TxHandler } from '../types.ts';

/**
 * Type 44, flex-confirm: the bid's aggregator confirms an activation, in a block whose time
 * is at most FLEX_CONFIRM_WINDOW_MS (30 s) after the activating block's. A later
 * confirmation is refused (FLEX_CONFIRM_LATE): the activation lapses at its deadline
 * (vm/flex/settlement.ts records it, status `lapsed`, and refunds the dso's escrow), so the
 * chain records the lapse whether or not a late confirmation was ever sent.
 */

function requirePending(state: StateReader, body: FlexConfirmBody, tx: Tx, ctx: ChainContext): FlexActivation {
  const field = 'tx.body.activationId';
  const a = getFlexActivation(state, body.activationId);
  if (a === undefined) throw new JouleError(ErrorCode.FLEX_ACTIVATION_UNKNOWN, `no flexibility activation ${toHex(body.activationId)}`, field);
  if (!equalBytes(a.aggregator, tx.from))
    throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `${addressText(tx.from)} is not the aggregator of the activated bid`, 'tx.sender');
  const deadline = a.activatedAtMs + FLEX_CONFIRM_WINDOW_MS;
  if (a.status === 'lapsed' || (a.status === 'pending' && ctx.timestamp !== undefined && ctx.timestamp > deadline))
    throw new JouleError(
      ErrorCode.FLEX_CONFIRM_LATE,
      `the confirmation was due by ${deadline} ms (${FLEX_CONFIRM_WINDOW_MS} ms after the activation)${ctx.timestamp === undefined ? '' : `, the block time is ${ctx.timestamp} ms`}: the activation lapses`,
      field,
    );
  if (a.status !== 'pending') throw new JouleError(ErrorCode.FLEX_NOT_PENDING, `the activation is ${a.status}`, field);
  return a;
}

function execute({ state, tx, body, block }: ExecContext<FlexConfirmBody>): BlockEvent[] {
  const a = requirePending(state, body, tx, block);
  putFlexActivation(state, body.activationId, { ...a, status: 'confirmed', confirmedAtMs: block.timestamp });
  return [
    {
      type: 'flex-confirmed',
      attributes: [
        ['activation', toHex(body.activationId)],
        ['aggregator', addressText(tx.from)],
        ['afterMs', String(block.timestamp - a.activatedAtMs)],
      ],
    },
  ];
}

export const flexConfirmHandler: TxHandler<FlexConfirmBody> = {
  type: TxType.flexConfirm,
  name: 'flex-confirm',
  tier: 'grid_balancing',
  decodeBody: decodeFlexConfirmBody,
  spend: () => 0n,
  keys: (body) => [flexActivationKey(body.activationId)],
  checkState: (state, body, tx, ctx) => void requirePending(state, body, tx, ctx),
  execute,
  describe: (body) => ({ activationId: `0x${toHex(body.activationId)}` }),
};
