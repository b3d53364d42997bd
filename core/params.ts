/**
 * Chain parameters, fixed in genesis (and changed only by governed transitions). Every
 * validator must agree on them, so they live in core and are read by vm/ and consensus/.
 */
export interface TierParams {
  readonly name: 'grid_balancing' | 'peer_to_peer' | 'carbon_credit';
  /** Priority multiplier in basis points (2.0 -> 20000), integers only. */
  readonly priorityMultiplierBps: number;
  /** Minimum fee for this tier, in micro-units. */
  readonly baseFee: bigint;
  /** Share of block space reserved for this tier, in basis points. */
  readonly minBlockShareBps: number;
}

export interface ChainParams {
  /** Target time between blocks, ms. */
  readonly blockPeriodMs: number;
  /** When > blockPeriodMs, an empty mempool produces blocks only this often (Besu's emptyblockperiodseconds). */
  readonly emptyBlockPeriodMs: number;
  /** QBFT round-0 timeout, ms; round r waits requestTimeoutMs * 2^r. */
  readonly requestTimeoutMs: number;
  readonly maxBlockTxs: number;
  readonly maxBlockBytes: number;
  readonly maxTxBytes: number;
  /** Allowed proposer clock drift into the future, ms. */
  readonly maxClockDriftMs: number;
  /** Minimum fee of any tx, micro-units. */
  readonly minFee: bigint;
  readonly tiers: readonly TierParams[];
}

export const DEFAULT_PARAMS: ChainParams = {
  blockPeriodMs: 1000,
  emptyBlockPeriodMs: 1000,
  requestTimeoutMs: 2000,
  maxBlockTxs: 10_000,
  maxBlockBytes: 4 * 1024 * 1024,
  maxTxBytes: 64 * 1024,
  maxClockDriftMs: 2000,
  minFee: 10n,
  tiers: [
    { name: 'grid_balancing', priorityMultiplierBps: 20_000, baseFee: 25n, minBlockShareBps: 3000 },
    { name: 'peer_to_peer', priorityMultiplierBps: 10_000, baseFee: 10n, minBlockShareBps: 2000 },
    { name: 'carbon_credit', priorityMultiplierBps: 5000, baseFee: 5n, minBlockShareBps: 1000 },
  ],
};
