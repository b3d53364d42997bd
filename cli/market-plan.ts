import type { Side } from '../core/market.ts';

/**
 * What `joule simulate market` places in one market: one bid per buyer and one ask per
 * seller device, random but reproducible from a seed, and always placeable: an ask's
 * volume is within its device's export limit over the interval (the rule order-place
 * checks), prices are within [minPrice, maxPrice] (at most the chain's cap), and no account
 * is both a buyer and a seller (an account may not hold both sides of one market).
 */

export interface PlanDevice {
  readonly id: string;
  readonly owner: string;
  readonly maxExportW: number;
}

export interface PlannedOrder {
  readonly account: string;
  readonly side: Side;
  readonly volumeWh: bigint;
  readonly price: bigint;
  readonly deviceId: string | undefined;
}

export interface PlanInput {
  readonly buyers: readonly string[];
  readonly devices: readonly PlanDevice[];
  readonly intervalMs: number;
  readonly minPrice: bigint;
  readonly maxPrice: bigint;
  /** Any 32-bit value; the same seed and inputs, the same orders. */
  readonly seed: number;
}

/** xorshift32: the simulator's randomness, reproducible from --seed. */
export function randomFrom(seed: number): (below: number) => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return (below) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % below;
  };
}

/** Wh a device may offer over one interval: its export limit for the interval's length, rounded down. */
export function exportLimitWh(maxExportW: number, intervalMs: number): bigint {
  return (BigInt(maxExportW) * BigInt(intervalMs)) / 3_600_000n;
}

const between = (random: (below: number) => number, lo: bigint, hi: bigint): bigint => lo + BigInt(random(Number(hi - lo) + 1));

export function planMarket(p: PlanInput): PlannedOrder[] {
  const random = randomFrom(p.seed);
  const buyers = p.buyers.filter((b) => !p.devices.some((d) => d.owner === b));
  const asks = p.devices.flatMap((d): PlannedOrder[] => {
    const limit = exportLimitWh(d.maxExportW, p.intervalMs);
    if (limit < 1n) return [];
    return [{ account: d.owner, side: 'ask', volumeWh: between(random, 1n, limit), price: between(random, p.minPrice, p.maxPrice), deviceId: d.id }];
  });
  // Bids together ask for about as much as the asks offer, so some trade and some do not.
  const offered = asks.reduce((s, a) => s + a.volumeWh, 0n);
  const perBuyer = buyers.length === 0 ? 0n : (2n * offered) / BigInt(buyers.length);
  const bids = buyers.map(
    (b): PlannedOrder => ({
      account: b,
      side: 'bid',
      volumeWh: between(random, 1n, perBuyer > 1n ? perBuyer : 1n),
      price: between(random, p.minPrice, p.maxPrice),
      deviceId: undefined,
    }),
  );
  return [...asks, ...bids];
}

/** The first interval start whose gate closes at least `marginMs` after `nowMs`. */
export function nextOpenInterval(nowMs: number, intervalMs: number, gateClosureLeadMs: number, marginMs: number): number {
  const earliest = nowMs + gateClosureLeadMs + marginMs;
  return Math.ceil(earliest / intervalMs) * intervalMs;
}
