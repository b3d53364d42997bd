import type { BlockEvent } from '../../core/block.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { hasRole } from '../../core/roles.ts';
import { decodeGridIntensityBody, type GridIntensityBody } from '../../core/tx/grid-intensity.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import { putGridIntensity } from '../../state/energy.ts';
import type { StateReader } from '../../state/overlay.ts';
import { addressText, readAccount } from '../accounts.ts';
import type { ChainContext, ExecContext, TxHandler } from '../types.ts';
import { gridIntensityReadKeys } from './storage-carbon.ts';

/**
 * Type 21: an oracle account posts a zone's grid carbon intensity for one settlement
 * interval; storage devices' grid imports in that zone and interval are charged at it
 * (vm/energy/storage-carbon.ts). A later post for the same zone and interval replaces the
 * earlier (any oracle's): the last before the interval closes is the one minting uses.
 *
 * Time rules, against the block's timestamp (execution, so a late post is included and
 * fails): the interval must not have closed (timestamp <= end + settlementDelayMs; in the
 * closing block itself txs run before the close), and must start at most
 * MAX_FORECAST_MS ahead.
 */

/** Forecasts may be posted a day ahead. */
export const MAX_FORECAST_MS = 86_400_000;

function validate(body: GridIntensityBody, _tx: Tx, ctx: ChainContext): void {
  if (body.intervalStartMs % ctx.params.settlementIntervalMs !== 0) {
    throw new JouleError(
      ErrorCode.TX_INVALID_FIELD,
      `must be a multiple of the settlement interval (${ctx.params.settlementIntervalMs} ms)`,
      'tx.body.intervalStartMs',
    );
  }
}

function checkState(state: StateReader, _body: GridIntensityBody, tx: Tx): void {
  if (!hasRole(readAccount(state, tx.from).roles, 'oracle'))
    throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `${addressText(tx.from)} does not hold the oracle role`, 'tx.sender');
}

function execute({ state, tx, body, block }: ExecContext<GridIntensityBody>): BlockEvent[] {
  const end = body.intervalStartMs + block.params.settlementIntervalMs;
  if (block.timestamp > end + block.params.settlementDelayMs) {
    throw new JouleError(
      ErrorCode.TX_INVALID_FIELD,
      `the interval closed at ${end + block.params.settlementDelayMs}, before this block (${block.timestamp})`,
      'tx.body.intervalStartMs',
    );
  }
  if (body.intervalStartMs > block.timestamp + MAX_FORECAST_MS) {
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `starts more than ${MAX_FORECAST_MS} ms after this block (${block.timestamp})`, 'tx.body.intervalStartMs');
  }
  putGridIntensity(state, body.zone, { intervalStartMs: body.intervalStartMs, carbonIntensity: body.carbonIntensity, oracle: tx.from });
  return [
    {
      type: 'grid-intensity',
      attributes: [
        ['oracle', addressText(tx.from)],
        ['zone', body.zone],
        ['intervalStartMs', String(body.intervalStartMs)],
        ['carbonIntensity', String(body.carbonIntensity)],
      ],
    },
  ];
}

export const gridIntensityHandler: TxHandler<GridIntensityBody> = {
  type: TxType.gridIntensity,
  name: 'grid-intensity',
  tier: 'grid_balancing',
  decodeBody: decodeGridIntensityBody,
  validate,
  spend: () => 0n,
  keys: (body) => gridIntensityKeys(body),
  checkState,
  execute,
  describe: (body) => ({ zone: body.zone, intervalStartMs: body.intervalStartMs, carbonIntensity: body.carbonIntensity }),
};

/** State keys the tx reads besides the sender's account. */
export function gridIntensityKeys(body: GridIntensityBody): Uint8Array[] {
  return gridIntensityReadKeys(body.zone, body.intervalStartMs);
}
