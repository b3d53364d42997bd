/**
 * The pool's tiers, highest first. `system` (evidence, validator and role votes) is not a
 * chain-parameter tier: it has no multiplier or block share, it simply always goes first.
 * The others are core/params.ts TierParams names; which tx type belongs where is the
 * caller's decision (node/txs/tiers.ts).
 */
export const TIERS = ['system', 'grid_balancing', 'peer_to_peer', 'carbon_credit'] as const;
export type Tier = (typeof TIERS)[number];

/** Rank of a tier: a higher level goes first into blocks and leaves a full pool last. */
export type Level = 0 | 1 | 2 | 3;

const LEVEL: Record<Tier, Level> = { system: 3, grid_balancing: 2, peer_to_peer: 1, carbon_credit: 0 };

export function levelOf(tier: Tier): Level {
  const level = LEVEL[tier];
  if (level === undefined) throw new TypeError(`unknown mempool tier ${String(tier)}`);
  return level;
}

export function tierAt(level: Level): Tier {
  return TIERS[3 - level]!;
}

/** Tiers from the one that leaves a full pool first (carbon_credit) to the one that leaves last (system). */
export const LEVELS_LOW_FIRST: readonly Level[] = [0, 1, 2, 3];
/** Tiers in block order: system, grid_balancing, peer_to_peer, carbon_credit. */
export const LEVELS_HIGH_FIRST: readonly Level[] = [3, 2, 1, 0];

/**
 * True when (levelA, priorityA) ranks strictly below (levelB, priorityB): a lower tier
 * ranks below any higher one whatever it pays; within a tier, the lower priority.
 */
export function ranksBelow(levelA: number, priorityA: bigint, levelB: number, priorityB: bigint): boolean {
  return levelA !== levelB ? levelA < levelB : priorityA < priorityB;
}

/** Txs and bytes one tier holds. */
export class TierUsage {
  readonly txs: number[] = [0, 0, 0, 0];
  readonly bytes: number[] = [0, 0, 0, 0];

  add(level: Level, bytes: number, sign: 1 | -1): void {
    this.txs[level]! += sign;
    this.bytes[level]! += sign * bytes;
  }
}
