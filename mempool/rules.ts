import { ErrorCode, JouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import type { SenderChain } from './chain.ts';
import type { Entry } from './entry.ts';
import type { Victim } from './eviction.ts';
import { bumped, type Limits } from './limits.ts';
import { levelOf, ranksBelow, type Level, type Tier } from './tiers.ts';

/** What the caller knows about a tx at admission; the pool never derives any of it. */
export interface AddMeta {
  /** Ordering key within the tier, higher first; computed by the caller (fee per byte x tier multiplier). */
  priority: bigint;
  /** The tx's tier (tiers.ts): block order across tiers, eviction order, per-tier bounds. */
  tier: Tier;
  /** Devices the tx speaks for (a telemetry batch's, a device tx's), each named once; for the per-device bound. */
  devices?: readonly string[];
  /** The sender's nonce in the latest committed state. */
  accountNonce: number;
  /** The sender's spendable balance in the latest committed state. */
  balance: bigint;
  /** What the tx takes from that balance if it executes: its fee plus what it spends (a transfer's amount). */
  cost: bigint;
  /** The caller's clock, ms: when the tx is admitted (the pool reads no clock itself). */
  now: number;
}

/** What admitting a tx would mean, worked out before anything changes. */
export interface Assessment {
  /** The pooled tx of the same sender and nonce it would replace. */
  old: Entry | undefined;
  /** It lands in its sender's executable run (rather than behind a nonce gap). */
  ready: boolean;
  /** Its floor once pooled (entry.ts). */
  floorLevel: Level;
  floor: bigint;
  /** No pooled tx of its sender comes after it (it will be its chain's tail). */
  last: boolean;
}

/**
 * The rules one tx must pass against its sender's pooled txs (`chain`, possibly none):
 * nonce window, replacement bump, per-sender caps (all pending; gapped), and the funds
 * rule: the sender's pending txs and this one together, fees and amounts, must fit the
 * balance at the head, so that every pooled tx can pay for itself. Throws the rejection.
 */
export function assess(chain: SenderChain | undefined, tx: Tx, meta: AddMeta, limits: Limits): Assessment {
  if (tx.nonce < meta.accountNonce) {
    throw new JouleError(ErrorCode.TX_NONCE_TOO_LOW, `nonce ${tx.nonce} is below the account nonce ${meta.accountNonce}`, 'tx.nonce');
  }
  if (tx.nonce > meta.accountNonce + limits.maxNonceGap) {
    throw new JouleError(
      ErrorCode.TX_NONCE_TOO_HIGH,
      `nonce ${tx.nonce} is more than ${limits.maxNonceGap} above the account nonce ${meta.accountNonce}`,
      'tx.nonce',
    );
  }
  if (tx.bytes.length > limits.maxBytes) {
    throw new JouleError(ErrorCode.MEMPOOL_FULL, `transaction of ${tx.bytes.length} bytes exceeds the mempool's ${limits.maxBytes} bytes`, 'tx');
  }
  // Entries below the account nonce are stale (mined already): add() drops them, and they count for nothing here.
  const start = chain === undefined ? 0 : chain.lowerBound(meta.accountNonce);
  const old = chain?.get(tx.nonce);
  if (old !== undefined && !bumped(tx.fee, old.tx.fee, limits.replaceBumpPercent)) {
    const min = (old.tx.fee * BigInt(100 + limits.replaceBumpPercent) + 99n) / 100n; // ceiling, for the message only
    throw new JouleError(
      ErrorCode.MEMPOOL_UNDERPRICED,
      `replacing nonce ${tx.nonce} needs a fee of at least ${min} (${limits.replaceBumpPercent}% above ${old.tx.fee}), got ${tx.fee}`,
      'tx.fee',
    );
  }
  const count = chain === undefined ? 0 : chain.length - start;
  if (old === undefined && count >= limits.maxPerSender) {
    throw new JouleError(ErrorCode.MEMPOOL_SENDER_LIMIT, `sender already has ${count} pending transactions (limit ${limits.maxPerSender})`, 'tx.from');
  }
  const run = chain === undefined ? 0 : chain.runFrom(start, meta.accountNonce);
  const ready = tx.nonce <= meta.accountNonce + run;
  if (!ready && old === undefined && count - run >= limits.maxGappedPerSender) {
    throw new JouleError(
      ErrorCode.MEMPOOL_SENDER_LIMIT,
      `sender already has ${count - run} transactions waiting behind the missing nonce ${meta.accountNonce + run} (limit ${limits.maxGappedPerSender})`,
      'tx.nonce',
    );
  }
  const pending = chain === undefined ? 0n : chain.cost - chain.costBefore(start) - (old?.cost ?? 0n);
  if (pending + meta.cost > meta.balance) {
    const others = count - (old === undefined ? 0 : 1);
    throw new JouleError(
      ErrorCode.MEMPOOL_INSUFFICIENT_FUNDS,
      `balance ${meta.balance} cannot cover this transaction's ${meta.cost} (fee and amount) on top of ${pending} pending in the sender's ${others} other transaction${others === 1 ? '' : 's'}`,
      'tx.from',
    );
  }
  const i = chain === undefined ? 0 : chain.lowerBound(tx.nonce);
  const before = chain !== undefined && i > start ? chain.entries[i - 1] : undefined;
  const level = levelOf(meta.tier);
  const below = before === undefined || ranksBelow(level, meta.priority, before.floorLevel, before.floor);
  return {
    old,
    ready,
    floorLevel: below ? level : before.floorLevel,
    floor: below ? meta.priority : before.floor,
    last: chain === undefined || chain.tail.tx.nonce <= tx.nonce,
  };
}

/**
 * Whether a newcomer (its floor: level and priority) may push `victim` out of a full pool
 * or tier: an executable newcomer always beats a gapped victim (which cannot execute), a
 * gapped one never beats an executable victim; otherwise a higher tier beats a lower one
 * outright, a lower one never wins, and within a tier the newcomer's floor must exceed
 * the victim's by `bumpPercent`, and by at least 1.
 */
export function outranks(ready: boolean, floorLevel: Level, floor: bigint, victim: Victim, bumpPercent: number): boolean {
  if (victim.gapped && ready) return true;
  if (!victim.gapped && !ready) return false;
  const v = victim.entry;
  if (floorLevel !== v.floorLevel) return floorLevel > v.floorLevel;
  return floor > v.floor && bumped(floor, v.floor, bumpPercent);
}

/** The refusal of a tx that would be the first to leave: the pool (or its tier) is full of txs that rank above it. */
export function fullError(limits: Limits, meta: Pick<AddMeta, 'tier' | 'priority'>, tierFull: boolean): JouleError {
  const { replaceBumpPercent } = limits;
  const level = levelOf(meta.tier);
  const what = tierFull
    ? `the ${meta.tier} tier is full (${limits.tierMaxTxs[level]} txs, ${limits.tierMaxBytes[level]} bytes)`
    : `the mempool is full (${limits.maxTxs} txs, ${limits.maxBytes} bytes)`;
  return new JouleError(
    ErrorCode.MEMPOOL_FULL,
    `${what} and nothing it may evict ranks below this ${meta.tier} transaction of priority ${meta.priority} (by ${replaceBumpPercent}% within a tier); it would be the first to leave`,
    'tx',
  );
}
