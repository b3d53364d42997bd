import { ErrorCode, JouleError } from '../../core/errors.ts';
import type { ChainParams } from '../../core/params.ts';
import { getMarketById } from '../../state/markets.ts';
import type { StateReader } from '../../state/overlay.ts';

/** Gate closure of the market whose interval starts at `intervalStartMs`: its start minus the lead. */
export function gateClosure(intervalStartMs: number, params: Pick<ChainParams, 'gateClosureLeadMs'>): number {
  return intervalStartMs - params.gateClosureLeadMs;
}

/** A market whose gate has closed by `timestamp` (ms): it takes no orders and clears. */
export function isPastGate(intervalStartMs: number, params: Pick<ChainParams, 'gateClosureLeadMs'>, timestamp: number): boolean {
  return gateClosure(intervalStartMs, params) <= timestamp;
}

/**
 * MARKET_CLOSED naming `field` when the market (id `m`) is past its gate closure at
 * `timestamp` (absent outside blocks and admission: left to inclusion), or has begun clearing.
 */
export function requireOpenMarket(
  state: StateReader,
  m: Uint8Array,
  intervalStartMs: number,
  params: ChainParams,
  timestamp: number | undefined,
  field: string,
): void {
  const closesAt = gateClosure(intervalStartMs, params);
  if (timestamp !== undefined && closesAt <= timestamp)
    throw new JouleError(ErrorCode.MARKET_CLOSED, `the market's gate closed at ${closesAt} ms, not after the block time ${timestamp} ms`, field);
  const status = getMarketById(state, m)?.status;
  if (status !== undefined && status !== 'open') throw new JouleError(ErrorCode.MARKET_CLOSED, `the market is ${status}`, field);
}

/** Wh a device exporting at `maxExportW` for a whole interval delivers: floor(W x ms / 3,600,000). */
export function intervalExportLimitWh(maxExportW: number, settlementIntervalMs: number): bigint {
  return (BigInt(maxExportW) * BigInt(settlementIntervalMs)) / 3_600_000n;
}
