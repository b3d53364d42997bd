import { ErrorCode, JouleError } from '../core/errors.ts';
import { TIERS, type Tier } from './tiers.ts';

export interface MempoolLimits {
  /** Most txs held at once. */
  maxTxs: number;
  /** Most encoded bytes (sum of tx.bytes.length) held at once. */
  maxBytes: number;
  /** Most txs one sender may hold (executable and queued together). */
  maxPerSender: number;
  /** Highest admissible nonce is accountNonce + maxNonceGap. */
  maxNonceGap: number;
  /**
   * A same-sender, same-nonce replacement must raise the fee by at least this percentage,
   * and a newcomer to a full pool must outrank the tx it evicts (of the same tier) by as much.
   */
  replaceBumpPercent: number;
  /** Most txs one sender may hold behind a nonce gap (not executable until the gap is filled). */
  maxGappedPerSender?: number;
  /** A sender's txs behind a nonce gap leave once the gap has been open this long (ms). */
  maxGapAgeMs?: number;
  /** Any tx leaves this long after it was admitted (ms), with the sender's later txs. */
  maxTxAgeMs?: number;
  /** Most pooled txs that speak for one device (AddMeta.devices). Default: no bound beyond maxTxs. */
  maxPerDevice?: number;
  /** Per tier, the most it may hold, in percent of maxTxs and of maxBytes. Default 100 (no bound beyond the pool's). */
  tierMaxPercent?: Partial<Record<Tier, number>>;
  /**
   * Per tier, the share (percent of maxTxs and of maxBytes) it keeps against newcomers of
   * other tiers: a tier holding no more than this loses txs only to its own newcomers.
   * Default 0. The tiers' reserves add up to at most 100.
   */
  tierReservedPercent?: Partial<Record<Tier, number>>;
}

/** The optional limits' defaults (also the node config's). */
export const EXPIRY_DEFAULTS = { maxGappedPerSender: 64, maxGapAgeMs: 30_000, maxTxAgeMs: 600_000 } as const;

/**
 * The node's tier and device bounds (node/node.ts): no tier may take more than 60 % of the
 * pool (system 10 %: votes and evidence are few), so a flood of one tier leaves room for
 * the others; and each tier keeps its chain minimum block share's worth (30/20/10 %)
 * against the others' newcomers, so even a flood of two tiers leaves the third room.
 */
export const TIER_DEFAULTS = {
  maxPerDevice: 256,
  tierMaxPercent: { system: 10, grid_balancing: 60, peer_to_peer: 60, carbon_credit: 60 },
  tierReservedPercent: { system: 0, grid_balancing: 30, peer_to_peer: 20, carbon_credit: 10 },
} as const satisfies Partial<MempoolLimits>;

/** Limits with every default filled, and the tier bounds resolved to txs and bytes, by level (tiers.ts). */
export interface Limits extends Required<Omit<MempoolLimits, 'tierMaxPercent' | 'tierReservedPercent'>> {
  readonly tierMaxTxs: readonly number[];
  readonly tierMaxBytes: readonly number[];
  readonly tierReservedTxs: readonly number[];
  readonly tierReservedBytes: readonly number[];
}

const bad = (k: string, why: string, v: unknown) => new JouleError(ErrorCode.CONFIG_INVALID, `${why}, got ${String(v)}`, `mempool.${k}`);

/** Fills the defaults and checks every limit; throws CONFIG_INVALID naming `mempool.<field>`. */
export function checkLimits(limits: MempoolLimits): Limits {
  const { tierMaxPercent = {}, tierReservedPercent = {}, ...rest } = limits;
  const all = { ...EXPIRY_DEFAULTS, maxPerDevice: Number.MAX_SAFE_INTEGER, ...rest };
  for (const k of ['maxTxs', 'maxBytes', 'maxPerSender', 'maxGapAgeMs', 'maxTxAgeMs', 'maxPerDevice'] as const) {
    if (!Number.isSafeInteger(all[k]) || all[k] < 1) throw bad(k, 'must be a positive integer', all[k]);
  }
  for (const k of ['maxNonceGap', 'replaceBumpPercent', 'maxGappedPerSender'] as const) {
    if (!Number.isSafeInteger(all[k]) || all[k] < 0) throw bad(k, 'must be a non-negative integer', all[k]);
  }
  const percent = (table: Partial<Record<Tier, number>>, field: string, fallback: number): number[] => {
    for (const k of Object.keys(table)) if (!(TIERS as readonly string[]).includes(k)) throw bad(`${field}.${k}`, `must be one of ${TIERS.join(', ')}`, k);
    // By level: index 0 is carbon_credit, 3 is system (tiers.ts).
    return [...TIERS].reverse().map((t) => {
      const v = table[t] ?? fallback;
      if (!Number.isSafeInteger(v) || v < 0 || v > 100) throw bad(`${field}.${t}`, 'must be an integer percentage (0..100)', v);
      return v;
    });
  };
  const max = percent(tierMaxPercent, 'tierMaxPercent', 100);
  const reserved = percent(tierReservedPercent, 'tierReservedPercent', 0);
  const reservedSum = reserved.reduce((a, b) => a + b, 0);
  if (reservedSum > 100) throw bad('tierReservedPercent', 'must add up to at most 100', reservedSum);
  reserved.forEach((r, level) => {
    if (r > max[level]!) throw bad(`tierReservedPercent.${TIERS[3 - level]}`, `must not exceed tierMaxPercent (${max[level]})`, r);
  });
  // A tier given any share holds at least one tx, however small the pool.
  const of = (total: number, pct: number[]) => pct.map((p) => (p === 0 ? 0 : Math.max(1, Math.floor((total * p) / 100))));
  return {
    ...all,
    tierMaxTxs: of(all.maxTxs, max),
    tierMaxBytes: of(all.maxBytes, max),
    tierReservedTxs: of(all.maxTxs, reserved),
    tierReservedBytes: of(all.maxBytes, reserved),
  };
}

/** newValue >= oldValue * (100 + bump) / 100 without division, i.e. the threshold rounded UP. */
export function bumped(newValue: bigint, oldValue: bigint, bumpPercent: number): boolean {
  return newValue * 100n >= oldValue * BigInt(100 + bumpPercent);
}
