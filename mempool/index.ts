/** Public surface of mempool/: the pool itself, its tiers, limits, metrics and types. */
export { Mempool, type AccountView, type AddResult, type MempoolStats } from './mempool.ts';
export type { AddMeta } from './rules.ts';
export { EXPIRY_DEFAULTS, TIER_DEFAULTS, type MempoolLimits } from './limits.ts';
export { TIERS, type Tier } from './tiers.ts';
export { NO_MEMPOOL_METRICS, type EvictionReason, type ExpiryReason, type MempoolMetrics } from './metrics.ts';
export type { SelectLimits } from './select.ts';
