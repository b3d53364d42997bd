import { compareBytes } from '../core/bytes.ts';
import type { Tx } from '../core/tx.ts';
import type { Level, Tier } from './tiers.ts';

/** One pooled transaction with what the caller told us about it at admission. */
export interface Entry {
  readonly tx: Tx;
  /** bytesKey(tx.hash): the map key (Uint8Array keys compare by identity, not content). */
  readonly key: string;
  /** bytesKey(tx.from): the key of the sender's chain. */
  readonly senderKey: string;
  /** Computed by the caller (fee per byte x tier multiplier); the pool compares it within a tier only. */
  readonly priority: bigint;
  readonly tier: Tier;
  /** levelOf(tier), kept so comparisons need no look-up. */
  readonly level: Level;
  /** Devices the tx speaks for (per-device bound), as the caller named them; usually none. */
  readonly devices: readonly string[];
  /** Admission order, unique per pool: the deterministic tie-break. */
  readonly seq: number;
  /** What the tx takes from the sender's balance if it executes: fee + spend (amount). */
  readonly cost: bigint;
  /** When it was admitted, in the caller's clock (ms). */
  readonly admittedAt: number;
  /**
   * The lowest (level, priority) among this tx and the sender's pooled txs before it. A tx
   * is not mined before its predecessors, so this, not its own rank, is what holding it is
   * worth: a cheap tx cannot be shielded from eviction by an expensive one queued after it,
   * nor a carbon_credit tx by a grid_balancing one. Kept by the sender's chain (chain.ts).
   */
  floorLevel: Level;
  floor: bigint;
}

/**
 * True when `a` goes into a block before `b` within one tier: higher priority first; among
 * equals the earlier arrival (first come, first served); the hash only decides if two
 * entries share a seq, which one pool never produces, but it keeps the order total.
 */
export function ranksBefore(a: Entry, b: Entry): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.seq !== b.seq) return a.seq < b.seq;
  return compareBytes(a.tx.hash, b.tx.hash) < 0;
}

/**
 * True when `a` leaves a full pool before `b`: the lower floor first (a lower tier before
 * any higher one, then the lower priority); among equals the newer arrival. A total order,
 * so which tx is evicted never depends on map or heap insertion order.
 */
export function evictsBefore(a: Entry, b: Entry): boolean {
  if (a.floorLevel !== b.floorLevel) return a.floorLevel < b.floorLevel;
  if (a.floor !== b.floor) return a.floor < b.floor;
  if (a.seq !== b.seq) return a.seq > b.seq;
  return compareBytes(a.tx.hash, b.tx.hash) > 0;
}
