/**
 * The simulated fleet's meters: each device exports at 60-100 % of its power, varying by
 * device and reading, and reports whole Wh (the chain's unit). What a reading cannot report
 * (less than 1 Wh) is carried to the device's next reading, as a real meter's register
 * does, so a fleet reporting often (a reading every second at a few kW is under 1 Wh)
 * still exports what it produced instead of rounding every reading down to nothing.
 */
const WATT_MICROSECONDS_PER_WH = 3_600_000_000n;

export class FleetMeters {
  private readonly powerW: bigint;
  /** Energy produced and not yet reported, W x us, by device index. */
  private readonly carried = new Map<number, bigint>();

  constructor(powerW: number) {
    this.powerW = BigInt(powerW);
  }

  /** The Wh device `i` reports for its reading `k`, covering `elapsedUs` of production (never negative). */
  exportedWh(i: number, k: number, elapsedUs: bigint): bigint {
    const percent = BigInt(60 + ((i * 37 + k * 11) % 41));
    const produced = (this.carried.get(i) ?? 0n) + (this.powerW * percent * elapsedUs) / 100n;
    const wh = produced / WATT_MICROSECONDS_PER_WH;
    this.carried.set(i, produced - wh * WATT_MICROSECONDS_PER_WH);
    return wh;
  }
}
