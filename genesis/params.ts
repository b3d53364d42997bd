import type { Encodable } from '../core/codec.ts';
import {
  DEFAULT_PARAMS,
  energyParamProblems,
  marketParamProblems,
  type ChainParams,
  type EnergyParams,
  type MarketParams,
  type TierParams,
} from '../core/params.ts';
import { MAX_TX_BYTES } from '../core/tx.ts';
import { type Checker, join } from './check.ts';
import type { ChainParamsJson } from './types.ts';

/**
 * Chain parameters in genesis.json: every field optional (defaults from DEFAULT_PARAMS,
 * which carries the tier table of market-parameters.md), amounts as decimal strings,
 * ranges checked here so a node never starts on parameters it cannot run.
 */

/** The tiers in their canonical order (also the order in the hashed encoding). */
export const TIER_NAMES: readonly TierParams['name'][] = ['grid_balancing', 'peer_to_peer', 'carbon_credit'];

const HOUR_MS = 3_600_000;
const MAX_BLOCK_BYTES = 64 * 1024 * 1024;

const ENERGY_FIELDS = [
  'settlementIntervalMs',
  'settlementDelayMs',
  'maxReadingSkewMs',
  'meterAccuracyPermille',
  'missedIntervalsDerate',
  'missedIntervalsFlag',
  'derateBps',
] as const satisfies readonly (keyof EnergyParams)[];

const MARKET_INT_FIELDS = [
  'gateClosureLeadMs',
  'askCollateralBps',
  'underDeliveryPenaltyBps',
  'overDeliveryPenaltyBps',
] as const satisfies readonly (keyof MarketParams)[];

const PARAM_FIELDS = [
  'blockPeriodMs',
  'emptyBlockPeriodMs',
  'requestTimeoutMs',
  'maxBlockTxs',
  'maxBlockBytes',
  'maxTxBytes',
  'maxClockDriftMs',
  'minFee',
  'tiers',
  ...ENERGY_FIELDS,
  ...MARKET_INT_FIELDS,
  'priceCap',
] as const;
const TIER_FIELDS = ['name', 'priorityMultiplierBps', 'baseFee', 'minBlockShareBps'] as const;

/** Reads `params` (may be undefined: all defaults). Returns undefined when any problem was found. */
export function checkParams(c: Checker, v: unknown, path = 'params'): ChainParams | undefined {
  if (v === undefined) return DEFAULT_PARAMS;
  const o = c.object(v, path);
  if (o === undefined) return undefined;
  const before = c.problems.length;
  c.unknownFields(o, PARAM_FIELDS, path);
  const d = DEFAULT_PARAMS;
  const int = (k: keyof ChainParams, min: number, max: number): number | undefined =>
    o[k] === undefined ? (d[k] as number) : c.int(o[k], join(path, k), min, max);

  const blockPeriodMs = int('blockPeriodMs', 1, HOUR_MS);
  const emptyBlockPeriodMs = int('emptyBlockPeriodMs', 1, 24 * HOUR_MS);
  const requestTimeoutMs = int('requestTimeoutMs', 1, HOUR_MS);
  const maxBlockTxs = int('maxBlockTxs', 1, 1_000_000);
  const maxBlockBytes = int('maxBlockBytes', 1, MAX_BLOCK_BYTES);
  const maxTxBytes = int('maxTxBytes', 1, MAX_TX_BYTES);
  const maxClockDriftMs = int('maxClockDriftMs', 0, HOUR_MS);
  const minFee = o.minFee === undefined ? d.minFee : c.amount(o.minFee, join(path, 'minFee'));
  const tiers = o.tiers === undefined ? d.tiers : checkTiers(c, o.tiers, join(path, 'tiers'));

  if (blockPeriodMs !== undefined && emptyBlockPeriodMs !== undefined && emptyBlockPeriodMs < blockPeriodMs) {
    c.add(join(path, 'emptyBlockPeriodMs'), `must be at least blockPeriodMs (${blockPeriodMs})`);
  }
  // The proposer of round 0 waits up to the empty-block period for txs; the others' round
  // timer (requestTimeoutMs) must outlast that wait, or every empty block costs a round change.
  if (emptyBlockPeriodMs !== undefined && requestTimeoutMs !== undefined && emptyBlockPeriodMs >= requestTimeoutMs) {
    c.add(
      join(path, 'requestTimeoutMs'),
      `must be greater than emptyBlockPeriodMs (${emptyBlockPeriodMs}): a proposer waiting for txs would otherwise time its peers out`,
    );
  }
  if (maxBlockBytes !== undefined && maxTxBytes !== undefined && maxBlockBytes < maxTxBytes) {
    c.add(join(path, 'maxBlockBytes'), `must be at least maxTxBytes (${maxTxBytes}), or the largest tx never fits`);
  }
  const energy = checkEnergy(c, o, path);
  const market = checkMarket(c, o, path);
  if (c.problems.length > before) return undefined;
  return {
    ...energy!,
    ...market!,
    blockPeriodMs: blockPeriodMs!,
    emptyBlockPeriodMs: emptyBlockPeriodMs!,
    requestTimeoutMs: requestTimeoutMs!,
    maxBlockTxs: maxBlockTxs!,
    maxBlockBytes: maxBlockBytes!,
    maxTxBytes: maxTxBytes!,
    maxClockDriftMs: maxClockDriftMs!,
    minFee: minFee!,
    tiers: tiers!,
  };
}

/** The energy parameters (core/params.ts energyParamProblems: each its range, then the rules between them). */
function checkEnergy(c: Checker, o: Record<string, unknown>, path: string): EnergyParams | undefined {
  const before = c.problems.length;
  const out: Record<string, number> = {};
  for (const k of ENERGY_FIELDS) {
    const v = o[k] === undefined ? DEFAULT_PARAMS[k] : c.int(o[k], join(path, k), Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    if (v !== undefined) out[k] = v;
  }
  if (c.problems.length > before) return undefined;
  const energy = out as unknown as EnergyParams;
  for (const [k, why] of energyParamProblems(energy)) c.add(join(path, k), why);
  return c.problems.length > before ? undefined : energy;
}

/** The market parameters (core/params.ts marketParamProblems); priceCap as a decimal string. */
function checkMarket(c: Checker, o: Record<string, unknown>, path: string): MarketParams | undefined {
  const before = c.problems.length;
  const out: Record<string, number | bigint> = {};
  for (const k of MARKET_INT_FIELDS) {
    const v = o[k] === undefined ? DEFAULT_PARAMS[k] : c.int(o[k], join(path, k), Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    if (v !== undefined) out[k] = v;
  }
  const cap = o.priceCap === undefined ? DEFAULT_PARAMS.priceCap : c.amount(o.priceCap, join(path, 'priceCap'));
  if (cap !== undefined) out.priceCap = cap;
  if (c.problems.length > before) return undefined;
  const market = out as unknown as MarketParams;
  for (const [k, why] of marketParamProblems(market)) c.add(join(path, k), why);
  return c.problems.length > before ? undefined : market;
}

function checkTiers(c: Checker, v: unknown, path: string): TierParams[] | undefined {
  const arr = c.array(v, path);
  if (arr === undefined) return undefined;
  const before = c.problems.length;
  const byName = new Map<string, TierParams>();
  arr.forEach((t, i) => {
    const p = `${path}[${i}]`;
    const o = c.object(t, p);
    if (o === undefined) return;
    c.unknownFields(o, TIER_FIELDS, p);
    const name = o.name;
    if (typeof name !== 'string' || !(TIER_NAMES as readonly string[]).includes(name)) {
      c.add(`${p}.name`, `must be one of ${TIER_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
    } else if (byName.has(name)) {
      c.add(`${p}.name`, `duplicate tier ${name}`);
    }
    const priorityMultiplierBps = c.int(o.priorityMultiplierBps, `${p}.priorityMultiplierBps`, 1, 1_000_000);
    const baseFee = c.amount(o.baseFee, `${p}.baseFee`);
    const minBlockShareBps = c.int(o.minBlockShareBps, `${p}.minBlockShareBps`, 0, 10_000);
    if (typeof name === 'string' && priorityMultiplierBps !== undefined && baseFee !== undefined && minBlockShareBps !== undefined) {
      if (!byName.has(name)) byName.set(name, { name: name as TierParams['name'], priorityMultiplierBps, baseFee, minBlockShareBps });
    }
  });
  if (c.problems.length > before) return undefined;
  const missing = TIER_NAMES.filter((n) => !byName.has(n));
  if (missing.length > 0) c.add(path, `missing tier(s): ${missing.join(', ')} (every tier needs its parameters)`);
  const share = [...byName.values()].reduce((s, t) => s + t.minBlockShareBps, 0);
  if (share > 10_000) c.add(path, `minBlockShareBps of all tiers add up to ${share}, more than 10000 (100 %)`);
  if (c.problems.length > before) return undefined;
  return TIER_NAMES.map((n) => byName.get(n)!);
}

export function paramsToJson(p: ChainParams): ChainParamsJson {
  return {
    blockPeriodMs: p.blockPeriodMs,
    emptyBlockPeriodMs: p.emptyBlockPeriodMs,
    requestTimeoutMs: p.requestTimeoutMs,
    maxBlockTxs: p.maxBlockTxs,
    maxBlockBytes: p.maxBlockBytes,
    maxTxBytes: p.maxTxBytes,
    maxClockDriftMs: p.maxClockDriftMs,
    minFee: p.minFee.toString(),
    tiers: p.tiers.map((t) => ({
      name: t.name,
      priorityMultiplierBps: t.priorityMultiplierBps,
      baseFee: t.baseFee.toString(),
      minBlockShareBps: t.minBlockShareBps,
    })),
    settlementIntervalMs: p.settlementIntervalMs,
    settlementDelayMs: p.settlementDelayMs,
    maxReadingSkewMs: p.maxReadingSkewMs,
    meterAccuracyPermille: p.meterAccuracyPermille,
    missedIntervalsDerate: p.missedIntervalsDerate,
    missedIntervalsFlag: p.missedIntervalsFlag,
    derateBps: p.derateBps,
    gateClosureLeadMs: p.gateClosureLeadMs,
    priceCap: p.priceCap.toString(),
    askCollateralBps: p.askCollateralBps,
    underDeliveryPenaltyBps: p.underDeliveryPenaltyBps,
    overDeliveryPenaltyBps: p.overDeliveryPenaltyBps,
  };
}

/**
 * Canonical wire form (fixed order, tiers in TIER_NAMES order):
 * [blockPeriodMs, emptyBlockPeriodMs, requestTimeoutMs, maxBlockTxs, maxBlockBytes,
 *  maxTxBytes, maxClockDriftMs, minFee, [[name, priorityMultiplierBps, baseFee, minBlockShareBps]...],
 *  settlementIntervalMs, settlementDelayMs, maxReadingSkewMs, meterAccuracyPermille,
 *  missedIntervalsDerate, missedIntervalsFlag, derateBps,
 *  gateClosureLeadMs, askCollateralBps, underDeliveryPenaltyBps, overDeliveryPenaltyBps, priceCap]
 */
export function paramsToWire(p: ChainParams): Encodable[] {
  const tiers = [...p.tiers].sort((a, b) => TIER_NAMES.indexOf(a.name) - TIER_NAMES.indexOf(b.name));
  return [
    p.blockPeriodMs,
    p.emptyBlockPeriodMs,
    p.requestTimeoutMs,
    p.maxBlockTxs,
    p.maxBlockBytes,
    p.maxTxBytes,
    p.maxClockDriftMs,
    p.minFee,
    tiers.map((t) => [t.name, t.priorityMultiplierBps, t.baseFee, t.minBlockShareBps]),
    ...ENERGY_FIELDS.map((k) => p[k]),
    ...MARKET_INT_FIELDS.map((k) => p[k]),
    p.priceCap,
  ];
}
