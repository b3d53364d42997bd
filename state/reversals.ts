import { readU64be, u64be } from '../core/bytes.ts';
import {
  type ReversalView,
  decodeGovernorSet,
  decodeReversal,
  encodeGovernorSet,
  encodeReversal,
  settlementRefBytes,
  type GovernorSet,
  type Reversal,
  type SettlementRef,
} from '../core/reversal.ts';
import { ReversalBucket, reversalBucketKey } from '../core/state-keys.ts';
import { getSettlement, marketId, settlementKey } from './markets.ts';
import type { StateOverlay, StateReader } from './overlay.ts';

/**
 * Governors and reversals of market settlements (StatePrefix.reversal = 0x23,
 * core/state-keys.ts ReversalBucket), with S = M ++ u32be(seq) naming a settlement as
 * state/markets.ts does:
 *
 *   0x23 0x01                -> GovernorSet [threshold, [address...]] (genesis)
 *   0x23 0x02 ++ S           -> Reversal (open or executed; at most one per settlement, ever)
 *   0x23 0x03 ++ u64be(id)   -> S (which settlement reversal `id` concerns)
 *   0x23 0x04                -> u64be(next id)
 */

export const GOVERNORS_KEY = reversalBucketKey(ReversalBucket.governors);
export const NEXT_REVERSAL_ID_KEY = reversalBucketKey(ReversalBucket.nextId);

export function getGovernorSet(state: StateReader): GovernorSet | undefined {
  const raw = state.get(GOVERNORS_KEY);
  return raw === undefined ? undefined : decodeGovernorSet(raw);
}

export function putGovernorSet(state: StateOverlay, g: GovernorSet): void {
  state.set(GOVERNORS_KEY, encodeGovernorSet(g));
}

export function reversalKey(r: SettlementRef): Uint8Array {
  return reversalBucketKey(ReversalBucket.bySettlement, settlementRefBytes(r));
}

export function reversalIdKey(id: number): Uint8Array {
  return reversalBucketKey(ReversalBucket.byId, u64be(id));
}

export function getReversal(state: StateReader, r: SettlementRef): Reversal | undefined {
  const raw = state.get(reversalKey(r));
  return raw === undefined ? undefined : decodeReversal(raw);
}

/** The reversal with id `id` and the keys that prove it (its index entry, its record). */
export function getReversalById(state: StateReader, id: number): { reversal: Reversal; idKey: Uint8Array; key: Uint8Array } | undefined {
  const idKey = reversalIdKey(id);
  const s = state.get(idKey);
  if (s === undefined) return undefined;
  const key = reversalBucketKey(ReversalBucket.bySettlement, s);
  const raw = state.get(key);
  return raw === undefined ? undefined : { reversal: decodeReversal(raw), idKey, key };
}

export function putReversal(state: StateOverlay, r: Reversal): void {
  state.set(reversalKey(r), encodeReversal(r));
  state.set(reversalIdKey(r.id), settlementRefBytes(r));
}

/** The id the next proposal gets, from 1. */
export function nextReversalId(state: StateReader): number {
  const raw = state.get(NEXT_REVERSAL_ID_KEY);
  return raw === undefined ? 1 : readU64be(raw, 0);
}

export function putNextReversalId(state: StateOverlay, id: number): void {
  state.set(NEXT_REVERSAL_ID_KEY, u64be(id));
}

/** The reversal of a settlement, or the reversal with id `by`, with what the RPC layer shows of it. */
export function readReversal(state: StateReader, by: number | SettlementRef): ReversalView | undefined {
  let reversal: Reversal | undefined;
  if (typeof by === 'number') reversal = getReversalById(state, by)?.reversal;
  else reversal = getReversal(state, by);
  if (reversal === undefined) return undefined;
  const m = marketId(reversal.zone, reversal.intervalStartMs);
  return {
    reversal,
    threshold: getGovernorSet(state)?.threshold,
    settlement: getSettlement(state, m, reversal.seq),
    key: reversalKey(reversal),
    idKey: reversalIdKey(reversal.id),
    settlementKey: settlementKey(m, reversal.seq),
  };
}
