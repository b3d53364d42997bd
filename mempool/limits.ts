import { ErrorCode, JouleError } from '../core/errors.ts';

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
   * and a newcomer to a full pool must outrank the tx it evicts by as much.
   */
  replaceBumpPercent: number;
  /** Most txs one sender may hold behind a nonce gap (not executable until the gap is filled). */
  maxGappedPerSender?: number;
  /** A sender's txs behind a nonce gap leave once the gap has been open this long (ms). */
  maxGapAgeMs?: number;
  /** Any tx leaves this long after it was admitted (ms), with the sender's later txs. */
  maxTxAgeMs?: number;
}

/** The optional limits' defaults (also the node config's). */
export const EXPIRY_DEFAULTS = { maxGappedPerSender: 64, maxGapAgeMs: 30_000, maxTxAgeMs: 600_000 } as const;

export type Limits = Required<MempoolLimits>;

/** Fills the defaults and checks every limit; throws CONFIG_INVALID naming `mempool.<field>`. */
export function checkLimits(limits: MempoolLimits): Limits {
  const all: Limits = { ...EXPIRY_DEFAULTS, ...limits };
  for (const k of ['maxTxs', 'maxBytes', 'maxPerSender', 'maxGapAgeMs', 'maxTxAgeMs'] as const) {
    if (!Number.isSafeInteger(all[k]) || all[k] < 1) {
      throw new JouleError(ErrorCode.CONFIG_INVALID, `must be a positive integer, got ${all[k]}`, `mempool.${k}`);
    }
  }
  for (const k of ['maxNonceGap', 'replaceBumpPercent', 'maxGappedPerSender'] as const) {
    if (!Number.isSafeInteger(all[k]) || all[k] < 0) {
      throw new JouleError(ErrorCode.CONFIG_INVALID, `must be a non-negative integer, got ${all[k]}`, `mempool.${k}`);
    }
  }
  return all;
}

/** newValue >= oldValue * (100 + bump) / 100 without division, i.e. the threshold rounded UP. */
export function bumped(newValue: bigint, oldValue: bigint, bumpPercent: number): boolean {
  return newValue * 100n >= oldValue * BigInt(100 + bumpPercent);
}
