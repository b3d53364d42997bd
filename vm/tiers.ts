import type { ChainParams, TierParams } from '../core/params.ts';
import type { Tx } from '../core/tx.ts';
import { requireTxHandler } from './registry.ts';
import type { TierName } from './types.ts';

/**
 * Tier parameters by name, indexed once per params object. A tier missing from the
 * chain's params is neutral (no base fee beyond minFee, multiplier 1.0): genesis
 * validation is where a missing tier should be reported, not block execution.
 */
const NEUTRAL: Omit<TierParams, 'name'> = { priorityMultiplierBps: 10_000, baseFee: 0n, minBlockShareBps: 0 };
const indexCache = new WeakMap<ChainParams, Map<string, TierParams>>();

export function tierParams(params: ChainParams, name: TierName): Omit<TierParams, 'name'> {
  let index = indexCache.get(params);
  if (index === undefined) {
    index = new Map(params.tiers.map((t) => [t.name, t]));
    indexCache.set(params, index);
  }
  return index.get(name) ?? NEUTRAL;
}

/** The mempool tier of a tx, from its type. Throws TX_UNKNOWN_TYPE. */
export function txTier(tx: Pick<Tx, 'type'>): TierName {
  return requireTxHandler(tx).tier;
}

/**
 * Mempool priority = fee x tier multiplier. The multiplier is in basis points, so
 * priority = fee * bps / 10_000, rounded DOWN (bigint division truncates; both operands
 * are non-negative). Integers only, so every node orders the same way.
 */
export function txPriority(tx: Pick<Tx, 'type' | 'fee'>, params: ChainParams): bigint {
  const bps = BigInt(tierParams(params, txTier(tx)).priorityMultiplierBps);
  return (tx.fee * bps) / 10_000n;
}
