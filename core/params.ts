const DAY_MS = 86_400_000;

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
  // ---- energy ledger (issue 9; defaults from market-parameters.md) ----
  /** Length of a settlement interval, ms: readings accumulate per (device, interval). */
  readonly settlementIntervalMs: number;
  /** An interval closes (is minted) at the first block whose timestamp passes its end plus this, ms. */
  readonly settlementDelayMs: number;
  /** A reading's timestamp may differ from its block's timestamp by at most this, ms. */
  readonly maxReadingSkewMs: number;
  /** Device and check meter totals differing by more than this (per mille of the larger) freeze the interval. */
  readonly meterAccuracyPermille: number;
  /** Consecutive intervals without readings after which a device's capacity is estimated, de-rated. */
  readonly missedIntervalsDerate: number;
  /** Consecutive intervals without readings after which a device is flagged and leaves dispatch. */
  readonly missedIntervalsFlag: number;
  /** The de-rating of an estimated interval, basis points (1000 = 10 %). */
  readonly derateBps: number;
  // ---- markets (issue 11; defaults from market-parameters.md) ----
  /** A market (zone, interval) closes to orders this long before its interval starts, ms; it clears in the first block at or past that. */
  readonly gateClosureLeadMs: number;
  /** The highest limit price an order may carry, micro-units per kWh (the operator's price cap). */
  readonly priceCap: bigint;
  /** Collateral an ask posts, basis points of its value at its limit price (ceil(volume x price x bps / 10^7)). */
  readonly askCollateralBps: number;
  /** Under-delivery penalty, basis points of the clearing price per undelivered kWh (500 = 5 %). */
  readonly underDeliveryPenaltyBps: number;
  /** Over-delivery charge, basis points of the clearing price per kWh beyond a seller's trades (200 = 2 %). */
  readonly overDeliveryPenaltyBps: number;
}

/** The energy ledger's parameters (a part of ChainParams). */
export type EnergyParams = Pick<
  ChainParams,
  'settlementIntervalMs' | 'settlementDelayMs' | 'maxReadingSkewMs' | 'meterAccuracyPermille' | 'missedIntervalsDerate' | 'missedIntervalsFlag' | 'derateBps'
>;

/** The markets' parameters (a part of ChainParams). */
export type MarketParams = Pick<ChainParams, 'gateClosureLeadMs' | 'priceCap' | 'askCollateralBps' | 'underDeliveryPenaltyBps' | 'overDeliveryPenaltyBps'>;

/**
 * Production: gate closure 5 minutes ahead (the settlement window of the template), a cap
 * of 4,000 per MWh (the EU day-ahead harmonised maximum; 4,000,000 micro-units per kWh),
 * asks post 5 % (what the under-delivery penalty can take at their own price), penalties
 * 5 % and 2 % (market-parameters.md).
 */
export const PRODUCTION_MARKET_PARAMS: MarketParams = {
  gateClosureLeadMs: 300_000,
  priceCap: 4_000_000n,
  askCollateralBps: 500,
  underDeliveryPenaltyBps: 500,
  overDeliveryPenaltyBps: 200,
};

/** The devnet: gate closure 5 s before a 30 s interval. */
export const DEVNET_MARKET_PARAMS: MarketParams = { ...PRODUCTION_MARKET_PARAMS, gateClosureLeadMs: 5_000 };

/** Prices are laid out as u64 in order keys (state/markets.ts), so the cap stays below 2^63. */
export const MAX_PRICE_CAP = 2n ** 63n - 1n;

/** The bounds of each market parameter (genesis validation): [field, problem] for every violation. */
export function marketParamProblems(p: MarketParams): [keyof MarketParams, string][] {
  const out: [keyof MarketParams, string][] = [];
  const range = (k: Exclude<keyof MarketParams, 'priceCap'>, min: number, max: number): void => {
    const v = p[k];
    if (!Number.isSafeInteger(v) || v < min || v > max) out.push([k, `must be an integer between ${min} and ${max}`]);
  };
  range('gateClosureLeadMs', 0, DAY_MS);
  if (typeof p.priceCap !== 'bigint' || p.priceCap < 1n || p.priceCap > MAX_PRICE_CAP)
    out.push(['priceCap', `must be an integer between 1 and ${MAX_PRICE_CAP}`]);
  range('askCollateralBps', 0, 10_000);
  range('underDeliveryPenaltyBps', 0, 10_000);
  range('overDeliveryPenaltyBps', 0, 10_000);
  return out;
}

/** Production: the European imbalance settlement period. */
export const PRODUCTION_ENERGY_PARAMS: EnergyParams = {
  settlementIntervalMs: 900_000,
  settlementDelayMs: 60_000,
  maxReadingSkewMs: 60_000,
  meterAccuracyPermille: 20,
  missedIntervalsDerate: 2,
  missedIntervalsFlag: 4,
  derateBps: 1000,
};

/**
 * The devnet: short intervals, so a newcomer sees telemetry settle within a minute. The
 * settlement delay exceeds half the reading skew (what ingress keeps for batching and
 * inclusion, node/ingress/ingress.ts) by 3 s, so a reading taken in an interval's last
 * moment and delivered within 3 s is still accepted.
 */
export const DEVNET_ENERGY_PARAMS: EnergyParams = {
  ...PRODUCTION_ENERGY_PARAMS,
  settlementIntervalMs: 30_000,
  settlementDelayMs: 8_000,
  maxReadingSkewMs: 10_000,
};

/**
 * The bounds of each energy parameter and the rules between them, one list for genesis
 * validation (genesis/params.ts) and tests: [field, problem] for every violation.
 */
export function energyParamProblems(p: EnergyParams): [keyof EnergyParams, string][] {
  const out: [keyof EnergyParams, string][] = [];
  const range = (k: keyof EnergyParams, min: number, max: number): boolean => {
    const v = p[k];
    if (Number.isSafeInteger(v) && v >= min && v <= max) return true;
    out.push([k, `must be an integer between ${min} and ${max}`]);
    return false;
  };
  const interval = range('settlementIntervalMs', 1000, DAY_MS);
  const delay = range('settlementDelayMs', 0, DAY_MS);
  const skew = range('maxReadingSkewMs', 1, DAY_MS);
  range('meterAccuracyPermille', 0, 1000);
  const derate = range('missedIntervalsDerate', 1, 1000);
  const flag = range('missedIntervalsFlag', 1, 1000);
  range('derateBps', 0, 10_000);
  // A reading for the end of an interval must be able to arrive before the interval
  // closes; longer than an interval, a delay would keep two intervals open at once for no gain.
  if (interval && delay && p.settlementDelayMs > p.settlementIntervalMs)
    out.push(['settlementDelayMs', `must be at most settlementIntervalMs (${p.settlementIntervalMs})`]);
  if (interval && skew && p.maxReadingSkewMs > p.settlementIntervalMs)
    out.push(['maxReadingSkewMs', `must be at most settlementIntervalMs (${p.settlementIntervalMs})`]);
  if (derate && flag && p.missedIntervalsFlag <= p.missedIntervalsDerate)
    out.push(['missedIntervalsFlag', `must be greater than missedIntervalsDerate (${p.missedIntervalsDerate})`]);
  return out;
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
  ...PRODUCTION_ENERGY_PARAMS,
  ...PRODUCTION_MARKET_PARAMS,
};

/**
 * The devnet's (`joule devnet`, genesis/devnet.ts): DEFAULT_PARAMS with DEVNET_ENERGY_PARAMS
 * and DEVNET_MARKET_PARAMS, and a round-0 timeout of 4 s. A devnet runs every validator on
 * one machine: under a fleet's load each validator's commit came 0.5-1.6 s after the block's
 * time, so the 2 s timeout (from the start of the height, a block period of it spent waiting
 * to propose) changed rounds among four honest validators in about half the runs, each
 * holding every reading in flight back by seconds (benchmarks/README.md). A validator on its
 * own machine keeps DEFAULT_PARAMS' 2 s. The price: a proposer that is down costs 4 s.
 */
export const DEVNET_PARAMS: ChainParams = { ...DEFAULT_PARAMS, requestTimeoutMs: 4000, ...DEVNET_ENERGY_PARAMS, ...DEVNET_MARKET_PARAMS };
