import { TokenBucket } from './token-bucket.ts';

/**
 * How many readings of unproven device streams may fail their signature check, per remote
 * address and on the whole node (token buckets, `perSecond` each up to `burst`).
 *
 * A reading whose signature fails costs the node its verification, several times a good
 * one's (its group is bisected), and anyone may open streams in a device's name. Charging
 * failures, not readings, leaves an honest fleet reconnecting all at once free; an address
 * whose streams keep failing is refused new streams until its bucket refills, and the
 * node's bucket bounds what many addresses together can make it verify in vain. Addresses
 * are remembered only while their bucket is not full, at most `maxAddresses` of them (those
 * full again go first, then the longest remembered).
 */
export interface FailureBudgetLimits {
  readonly perAddressPerSecond: number;
  readonly perAddressBurst: number;
  readonly perSecond: number;
  readonly burst: number;
  readonly maxAddresses: number;
}

export class FailureBudget {
  private readonly limits: FailureBudgetLimits;
  private readonly node: TokenBucket;
  private readonly byAddress = new Map<string, TokenBucket>();

  constructor(limits: FailureBudgetLimits, nowMs: number) {
    this.limits = limits;
    this.node = new TokenBucket(limits.perSecond, limits.burst, nowMs);
  }

  /** Whether an unproven stream from `address` may have a reading verified now: its address's budget and the node's have room. */
  allows(address: string, nowMs: number): boolean {
    const own = this.byAddress.get(address);
    return this.node.available(nowMs) >= 1 && (own === undefined || own.available(nowMs) >= 1);
  }

  /** A reading of an unproven stream from `address` failed its signature: charged to both budgets. False when either had no room left. */
  charge(address: string, nowMs: number): boolean {
    let own = this.byAddress.get(address);
    if (own === undefined) {
      this.makeRoom(nowMs);
      own = new TokenBucket(this.limits.perAddressPerSecond, this.limits.perAddressBurst, nowMs);
      this.byAddress.set(address, own);
    }
    const ownRoom = own.take(1, nowMs);
    return this.node.take(1, nowMs) && ownRoom;
  }

  /** Addresses remembered now (tests). */
  get addresses(): number {
    return this.byAddress.size;
  }

  private makeRoom(nowMs: number): void {
    if (this.byAddress.size < this.limits.maxAddresses) return;
    for (const [address, bucket] of this.byAddress) if (bucket.available(nowMs) >= this.limits.perAddressBurst) this.byAddress.delete(address);
    if (this.byAddress.size < this.limits.maxAddresses) return;
    const oldest = this.byAddress.keys().next();
    if (oldest.done !== true) this.byAddress.delete(oldest.value);
  }
}
