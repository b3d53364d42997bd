import { compareBytes } from '../core/bytes.ts';
import type { Tx } from '../core/tx.ts';

/** One pooled transaction with what the caller told us about it at admission. */
export interface Entry {
  readonly tx: Tx;
  /** bytesKey(tx.hash): the map key (Uint8Array keys compare by identity, not content). */
  readonly key: string;
  /** bytesKey(tx.from): the key of the sender's chain. */
  readonly senderKey: string;
  /** Computed by the caller (fee, tier multiplier, ...); the pool only compares it. */
  readonly priority: bigint;
  /** Tier name, kept for the tiered block builder of the Device ingress issue and for stats. */
  readonly tier: string;
  /** Admission order, unique per pool: the deterministic tie-break. */
  readonly seq: number;
}

/**
 * True when `a` goes into a block before `b`: higher priority first; among equals the
 * earlier arrival (first come, first served); the hash only decides if two entries share
 * a seq, which one pool never produces, but it keeps the order total by construction.
 * Eviction uses the reverse: the lowest-ranked tail goes first, so among equal
 * priorities the newest arrival is the one to leave.
 */
export function ranksBefore(a: Entry, b: Entry): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.seq !== b.seq) return a.seq < b.seq;
  return compareBytes(a.tx.hash, b.tx.hash) < 0;
}
