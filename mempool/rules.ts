import { ErrorCode, JouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import type { SenderChain } from './chain.ts';
import type { Entry } from './entry.ts';
import { bumped, type Limits } from './limits.ts';

/** What the caller knows about a tx at admission; the pool never derives any of it. */
export interface AddMeta {
  /** Ordering key, higher first; computed by the caller (fee, tier multiplier...). */
  priority: bigint;
  /** Tier name (grid_balancing, peer_to_peer, carbon_credit); stored for the tiered builder. */
  tier: string;
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
  floor: bigint;
  /** No pooled tx of its sender comes after it (it will be its chain's tail). */
  last: boolean;
}

/** A tx a full pool would give up, and whether it waits behind a nonce gap. */
export interface Victim {
  entry: Entry;
  gapped: boolean;
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
  const before = chain !== undefined && i > start ? chain.entries[i - 1]!.floor : undefined;
  const floor = before === undefined || meta.priority < before ? meta.priority : before;
  return { old, ready, floor, last: chain === undefined || chain.tail.tx.nonce <= tx.nonce };
}

/**
 * Whether a newcomer may push `victim` out of a full pool: an executable newcomer always
 * beats a gapped victim (which cannot execute), a gapped one never beats an executable
 * victim; otherwise its floor must exceed the victim's by `bumpPercent`, and by at least 1.
 */
export function outranks(ready: boolean, floor: bigint, victim: Victim, bumpPercent: number): boolean {
  if (victim.gapped && ready) return true;
  if (!victim.gapped && !ready) return false;
  return floor > victim.entry.floor && bumped(floor, victim.entry.floor, bumpPercent);
}

export function fullError(limits: Limits, priority: bigint): JouleError {
  const { maxTxs, maxBytes, replaceBumpPercent } = limits;
  return new JouleError(
    ErrorCode.MEMPOOL_FULL,
    `mempool is full (${maxTxs} txs, ${maxBytes} bytes) and nothing evictable ranks ${replaceBumpPercent}% below priority ${priority}`,
    'tx',
  );
}
