import { TokenBucket } from './token-bucket.ts';

/**
 * How many readings of unproven device streams may fail their signature check, per remote
 * address and on the whole node (token buckets, `perSecond` each up to `burst`).
 *
 * A reading whose signature fails costs the node its verification, several times a good
 * one's (its group is bisected), and anyone may open streams in a device's name. Charging
 * failures, not readings, leaves an honest fleet reconnecting all at once free. A failure
 * is known only once its check is done, so a reading goes to its check only with a place
 * reserved (`reserve`): at most as many are in flight as the budgets could still pay for,
 * and `settle` charges the failed ones. An address whose budget is spent is refused new
 * streams (`exhausted`) until it refills; the node's budget bounds what many addresses
 * together can make it verify in vain.
 *
 * Addresses are remembered while they have checks in flight or their bucket is not full,
 * at most `maxAddresses` (beyond, those idle and full go first, then the longest
 * remembered idle one; if every one is busy, a new address must wait).
 */
export interface FailureBudgetLimits {
  readonly perAddressPerSecond: number;
  readonly perAddressBurst: number;
  readonly perSecond: number;
  readonly burst: number;
  readonly maxAddresses: number;
}

interface Budget {
  readonly bucket: TokenBucket;
  /** Checks in flight: each may yet fail and take a token. */
  pending: number;
}

const roomIn = (b: Budget, nowMs: number): boolean => b.bucket.available(nowMs) - b.pending >= 1;

export class FailureBudget {
  private readonly limits: FailureBudgetLimits;
  private readonly node: Budget;
  private readonly byAddress = new Map<string, Budget>();

  constructor(limits: FailureBudgetLimits, nowMs: number) {
    this.limits = limits;
    this.node = { bucket: new TokenBucket(limits.perSecond, limits.burst, nowMs), pending: 0 };
  }

  /** Whether `address` has used up its budget (or the node its own): its new unproven streams are refused. */
  exhausted(address: string, nowMs: number): boolean {
    const own = this.byAddress.get(address);
    return this.node.bucket.available(nowMs) < 1 || (own !== undefined && own.bucket.available(nowMs) < 1);
  }

  /** Reserves a place for one check of a reading from `address`: false when the budgets could not pay for it failing (wait, then try again). */
  reserve(address: string, nowMs: number): boolean {
    if (!roomIn(this.node, nowMs)) return false;
    const own = this.byAddress.get(address) ?? this.remember(address, nowMs);
    if (own === undefined || !roomIn(own, nowMs)) return false;
    own.pending++;
    this.node.pending++;
    return true;
  }

  /** A reserved check is done: its place is free, and a failure is charged to both budgets. */
  settle(address: string, failed: boolean, nowMs: number): void {
    this.node.pending--;
    if (failed) this.node.bucket.take(1, nowMs);
    const own = this.byAddress.get(address);
    if (own === undefined) return;
    own.pending--;
    if (failed) own.bucket.take(1, nowMs);
  }

  /** Addresses remembered now (tests). */
  get addresses(): number {
    return this.byAddress.size;
  }

  private remember(address: string, nowMs: number): Budget | undefined {
    if (this.byAddress.size >= this.limits.maxAddresses) {
      for (const [a, b] of this.byAddress) if (b.pending === 0 && b.bucket.available(nowMs) >= this.limits.perAddressBurst) this.byAddress.delete(a);
      if (this.byAddress.size >= this.limits.maxAddresses) {
        for (const [a, b] of this.byAddress)
          if (b.pending === 0) {
            this.byAddress.delete(a);
            break;
          }
      }
      if (this.byAddress.size >= this.limits.maxAddresses) return undefined;
    }
    const b: Budget = { bucket: new TokenBucket(this.limits.perAddressPerSecond, this.limits.perAddressBurst, nowMs), pending: 0 };
    this.byAddress.set(address, b);
    return b;
  }
}
