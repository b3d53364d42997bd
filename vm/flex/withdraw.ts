import type { BlockEvent } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import type { FlexBid } from '../../core/flex.ts';
import { decodeFlexWithdrawBody, type FlexWithdrawBody } from '../../core/tx/flex-withdraw.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { flexBidKey, getFlexBid, putFlexBid } from '../../state/flex.ts';
import type { StateReader } from '../../state/overlay.ts';
import { addressText } from '../accounts.ts';
import type { ChainContext, ExecContext, TxHandler } from '../types.ts';

/**
 * Type 45, flex-withdraw: the bid's aggregator withdraws it. Its availability ends at the
 * block's time, or at the end of its latest activation's window if later (that activation
 * stands, and settles as any other): no window is left for a new activation (FLEX_WINDOW).
 * A bid that offers nothing any more (withdrawn, or its availability over) is refused.
 */

/** Where a withdrawal made at `nowMs` ends the bid's availability. */
function withdrawnUntil(bid: FlexBid, nowMs: number): number {
  return Math.max(bid.availableFromMs, bid.reservedUntilMs, nowMs);
}

function requireOpen(state: StateReader, body: FlexWithdrawBody, tx: Tx, ctx: ChainContext): FlexBid {
  const bid = getFlexBid(state, body.bidId);
  if (bid === undefined) throw new JouleError(ErrorCode.FLEX_BID_UNKNOWN, `no flexibility bid ${toHex(body.bidId)}`, 'tx.body.bidId');
  if (!equalBytes(bid.aggregator, tx.from)) throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `${addressText(tx.from)} is not the bid's aggregator`, 'tx.sender');
  if (ctx.timestamp !== undefined && bid.availableUntilMs <= withdrawnUntil(bid, ctx.timestamp))
    throw new JouleError(ErrorCode.FLEX_WINDOW, `the bid offers no window any more (available until ${bid.availableUntilMs} ms)`, 'tx.body.bidId');
  return bid;
}

function execute({ state, tx, body, block }: ExecContext<FlexWithdrawBody>): BlockEvent[] {
  const bid = requireOpen(state, body, tx, block);
  const until = withdrawnUntil(bid, block.timestamp);
  putFlexBid(state, body.bidId, { ...bid, availableUntilMs: until });
  return [
    {
      type: 'flex-withdrawn',
      attributes: [
        ['bid', toHex(body.bidId)],
        ['aggregator', addressText(tx.from)],
        ['availableUntilMs', String(until)],
      ],
    },
  ];
}

export const flexWithdrawHandler: TxHandler<FlexWithdrawBody> = {
  type: TxType.flexWithdraw,
  name: 'flex-withdraw',
  tier: 'grid_balancing',
  decodeBody: decodeFlexWithdrawBody,
  spend: () => 0n,
  keys: (body) => [flexBidKey(body.bidId)],
  checkState: (state, body, tx, ctx) => void requireOpen(state, body, tx, ctx),
  execute,
  describe: (body) => ({ bidId: `0x${toHex(body.bidId)}` }),
};
