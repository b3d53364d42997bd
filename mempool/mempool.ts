import { bytesKey } from './key.ts';
import { ErrorCode, isJouleError, JouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import { AgeQueue } from './age-queue.ts';
import type { Entry } from './entry.ts';
import type { Victim } from './eviction.ts';
import { PoolStore } from './store.ts';
import { assertPoolConsistent } from './consistency.ts';
import { checkLimits, type Limits, type MempoolLimits } from './limits.ts';
import { assess, fullError, outranks, type AddMeta, type Assessment } from './rules.ts';
import { NO_MEMPOOL_METRICS, type ExpiryReason, type MempoolMetrics } from './metrics.ts';
import { selectExecutable, type SelectLimits } from './select.ts';
import { levelOf, TIERS, tierAt, type Level, type Tier } from './tiers.ts';

/** A sender's account in the latest committed state, as far as the pool cares. */
export interface AccountView {
  nonce: number;
  balance: bigint;
}

export interface AddResult {
  /** The tx this one replaced (same sender and nonce), if any. */
  replaced: Tx | undefined;
  /** Txs that left the pool to make room, or because they turned out stale (nonce below the account's). */
  evicted: Tx[];
}

export interface MempoolStats {
  size: number;
  bytes: number;
  senders: number;
  /** Txs per tier (tiers holding none are left out). */
  byTier: Partial<Record<Tier, number>>;
  /** Encoded bytes per tier (likewise). */
  bytesByTier: Partial<Record<Tier, number>>;
}

/** What made a full pool look for a victim: the newcomer's tier over its bound, or the pool over its own. */
type Overflow = 'tier' | 'pool';

/**
 * A bounded pool of pending transactions, in tiers (tiers.ts: system, grid_balancing,
 * peer_to_peer, carbon_credit, in block order).
 *
 * Each sender's txs form a chain sorted by nonce (whatever their tiers); only a run of
 * consecutive nonces starting at the account nonce is executable, anything after a gap
 * waits ("gapped"). Holding pool space must cost what getting in costs an honest user, so:
 * - a sender's pooled txs together (fees and amounts) must fit its balance at the head;
 * - a full pool evicts chain tails, gapped ones first (they cannot execute), then the
 *   executable tail with the lowest floor (the lowest tier, then the lowest priority,
 *   among the tail and its predecessors), and only for a newcomer that outranks it (a
 *   higher tier, or within the tier by replaceBumpPercent); a full tier evicts only its
 *   own; a tier within its reserve loses nothing to other tiers' newcomers;
 * - gapped txs leave once their gap is maxGapAgeMs old, any tx maxTxAgeMs after admission.
 * Blocks take the tiers in order, each within-tier by the caller's priority (select.ts).
 * Costs, n = pooled txs, s = senders, k = one sender's txs (<= maxPerSender), d = devices of a tx:
 *   add / remove: O(log s + log k + d) plus one memmove of <= k pointers when not at a chain's end;
 *   select(m txs): O(s) nonce look-ups and heapify, then O(m log s);
 *   removeCommitted(b txs): O(b + touched senders * log s);
 *   expire: O(expired + gapped senders); revalidate: O(budget) checks.
 */
export class Mempool extends PoolStore {
  private readonly limits: Limits;
  private readonly metrics: MempoolMetrics;
  private readonly ages = new AgeQueue();
  private seq = 0;
  /** Where re-validation continues: a live iterator over byHash (admission order). */
  private recheck: Iterator<Entry> | undefined;
  private readonly isLive = (e: Entry): boolean => this.byHash.get(e.key) === e;

  constructor(limits: MempoolLimits, metrics: MempoolMetrics = NO_MEMPOOL_METRICS) {
    super();
    this.limits = checkLimits(limits);
    this.metrics = metrics;
  }

  get size(): number {
    return this.byHash.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  has(hash: Uint8Array): boolean {
    return this.byHash.has(bytesKey(hash));
  }

  get(hash: Uint8Array): Tx | undefined {
    return this.byHash.get(bytesKey(hash))?.tx;
  }

  /** Priority, tier and arrival sequence the tx was admitted with. */
  meta(hash: Uint8Array): { priority: bigint; tier: Tier; seq: number } | undefined {
    const e = this.byHash.get(bytesKey(hash));
    return e === undefined ? undefined : { priority: e.priority, tier: e.tier, seq: e.seq };
  }

  *txs(): Iterable<Tx> {
    for (const e of this.byHash.values()) yield e.tx;
  }

  /** One sender's pooled txs in nonce order (executable and gapped). */
  senderTxs(from: Uint8Array): Tx[] {
    const chain = this.chains.get(bytesKey(from));
    return chain === undefined ? [] : chain.entries.map((e) => e.tx);
  }

  /** What one sender's pooled txs take from its balance together (fees and amounts). */
  pendingCost(from: Uint8Array): bigint {
    return this.chains.get(bytesKey(from))?.cost ?? 0n;
  }

  /** The nonce after the sender's executable run: what a wallet should sign next. */
  nextNonce(from: Uint8Array, accountNonce: number): number {
    const chain = this.chains.get(bytesKey(from));
    return chain === undefined ? accountNonce : accountNonce + chain.runFrom(chain.lowerBound(accountNonce), accountNonce);
  }

  /** Whether a pooled tx of `from` has this nonce. */
  hasNonce(from: Uint8Array, nonce: number): boolean {
    return this.chains.get(bytesKey(from))?.get(nonce) !== undefined;
  }

  stats(): MempoolStats {
    const byTier: Partial<Record<Tier, number>> = {};
    const bytesByTier: Partial<Record<Tier, number>> = {};
    for (const tier of TIERS) {
      const level = levelOf(tier);
      if (this.usage.txs[level] === 0) continue;
      byTier[tier] = this.usage.txs[level]!;
      bytesByTier[tier] = this.usage.bytes[level]!;
    }
    return { size: this.size, bytes: this.totalBytes, senders: this.chains.size, byTier, bytesByTier };
  }

  /** Pooled txs that speak for a device. */
  deviceTxs(device: string): number {
    return this.devices.count(device);
  }

  /**
   * The rules of `add` that need no change to the pool, for a caller that wants to refuse
   * early (before verifying signatures). Optimistic where the sender's earlier txs may
   * still be on their way in: a full pool refuses here only a tx that would not get in
   * even as an executable one. What it refuses, `add` refuses too, with the same code.
   */
  precheck(tx: Tx, meta: AddMeta): void {
    this.counted(meta.tier, () => {
      const a = this.assess(tx, meta);
      // Only for a tx that will be its chain's tail: one put before later txs of its sender may make room by evicting those.
      if (!a.last) return;
      const level = levelOf(meta.tier);
      const sameTier = a.old !== undefined && a.old.level === level;
      const over = this.overflow(level, sameTier ? 0 : 1, tx.bytes.length - (sameTier ? a.old!.tx.bytes.length : 0));
      if (over === undefined) return;
      const victim = this.nextVictim(level, over);
      if (victim !== undefined && !outranks(true, a.floorLevel, a.floor, victim, this.limits.replaceBumpPercent))
        throw fullError(this.limits, meta, over === 'tier');
    });
  }

  /**
   * Admits a tx or throws JouleError (MEMPOOL_DUPLICATE, TX_NONCE_TOO_LOW,
   * TX_NONCE_TOO_HIGH, MEMPOOL_UNDERPRICED, MEMPOOL_SENDER_LIMIT, MEMPOOL_DEVICE_LIMIT,
   * MEMPOOL_INSUFFICIENT_FUNDS, MEMPOOL_FULL). A failed add leaves the pool as it was,
   * except that the sender's stale txs (nonce below meta.accountNonce) may have been
   * dropped: they could never execute anyway.
   */
  add(tx: Tx, meta: AddMeta): AddResult {
    return this.counted(meta.tier, () => {
      const a = this.assess(tx, meta);
      const senderKey = bytesKey(tx.from);
      const stale = this.rebase(senderKey, meta.accountNonce);
      const level = levelOf(meta.tier);
      const entry: Entry = {
        tx,
        key: bytesKey(tx.hash),
        senderKey,
        priority: meta.priority,
        tier: meta.tier,
        level,
        devices: meta.devices ?? [],
        seq: ++this.seq,
        cost: meta.cost,
        admittedAt: meta.now,
        floorLevel: level,
        floor: meta.priority,
      };
      if (a.old !== undefined) this.removeEntry(a.old, meta.now);
      this.insertEntry(entry, meta.accountNonce, meta.now);

      // Make room by evicting chain tails that rank below the newcomer. If the next
      // candidate does not, undo everything: the newcomer is the one that does not fit.
      const pushedOut: { victim: Victim; baseNonce: number; gapSince: number | undefined }[] = [];
      for (let over = this.overflow(level, 0, 0); over !== undefined; over = this.overflow(level, 0, 0)) {
        const victim = this.nextVictim(level, over);
        if (victim === undefined || victim.entry === entry || !outranks(a.ready, entry.floorLevel, entry.floor, victim, this.limits.replaceBumpPercent)) {
          this.removeEntry(entry, undefined);
          if (a.old !== undefined) this.insertEntry(a.old, meta.accountNonce, undefined);
          for (const p of pushedOut.reverse()) {
            const chain = this.insertEntry(p.victim.entry, p.baseNonce, undefined);
            if (chain.hasGap) chain.gapSince = p.gapSince;
          }
          throw fullError(this.limits, meta, over === 'tier');
        }
        const chain = this.chains.get(victim.entry.senderKey)!;
        pushedOut.push({ victim, baseNonce: chain.baseNonce, gapSince: chain.gapSince });
        this.removeEntry(victim.entry, meta.now);
      }
      this.ages.push(entry, this.size, this.isLive);
      this.metrics.admitted(meta.tier);
      for (const p of pushedOut) this.metrics.evicted(p.victim.gapped ? 'gapped' : 'outbid', p.victim.entry.tier, 1);
      return { replaced: a.old?.tx, evicted: stale.concat(pushedOut.map((p) => p.victim.entry)).map((e) => e.tx) };
    });
  }

  /**
   * Executable txs for a block, tier by tier (system first), each tier guaranteed its
   * minimum share of the block when it has txs (select.ts); within a tier the highest
   * priority first (ties: earlier arrival), each sender's txs in consecutive nonce order
   * from its account nonce. Does not remove anything.
   */
  select(limits: SelectLimits, accountNonce: (from: Uint8Array) => number): Tx[] {
    return selectExecutable(this.chains.values(), limits, accountNonce);
  }

  /**
   * After a block: drops the included txs, then every tx of the block's senders whose
   * nonce is now below the account nonce (a competing tx with the same nonce, included
   * elsewhere, is superseded), then, from the tail, whatever of theirs the new balance no
   * longer covers (a competing tx may have spent more). Only senders in the block can
   * have moved their nonce or lowered their balance.
   */
  removeCommitted(txs: readonly Tx[], accountOf: (from: Uint8Array) => AccountView, now?: number): void {
    // Consecutive txs of one sender share a key; remember the last to skip re-keying.
    const accounts = new Map<string, AccountView>();
    const keys: string[] = new Array(txs.length);
    let lastFrom: Uint8Array | undefined;
    let lastKey = '';
    for (let i = 0; i < txs.length; i++) {
      const from = txs[i]!.from;
      if (from !== lastFrom) {
        lastFrom = from;
        lastKey = bytesKey(from);
      }
      keys[i] = lastKey;
      if (!accounts.has(lastKey)) accounts.set(lastKey, accountOf(from));
    }
    if (now !== undefined) {
      for (const tx of txs) {
        const e = this.byHash.get(bytesKey(tx.hash));
        if (e !== undefined) this.metrics.included(e.tier, now - e.admittedAt);
      }
    }
    // One splice per sender first, so a sender with thousands of txs in the block is not
    // removed one memmove at a time. That already removes every included tx we hold
    // (its nonce is below the new account nonce); only the rest need a hash look-up.
    const unfunded: Entry[] = [];
    for (const [senderKey, account] of accounts) {
      this.rebase(senderKey, account.nonce);
      const chain = this.chains.get(senderKey);
      while (chain !== undefined && chain.length > 0 && chain.cost > account.balance) {
        unfunded.push(chain.tail);
        this.removeEntry(chain.tail, undefined);
      }
    }
    this.countByTier(unfunded, (tier, n) => this.metrics.evicted('unfunded', tier, n));
    for (let i = 0; i < txs.length; i++) {
      const tx = txs[i]!;
      if (tx.nonce < accounts.get(keys[i]!)!.nonce) continue;
      const e = this.byHash.get(bytesKey(tx.hash));
      if (e !== undefined) this.removeEntry(e, undefined);
    }
  }

  /**
   * Re-validation after a block: checks up to `budget.txs` pooled txs, and stops once it
   * has checked `budget.bytes` of them (a big telemetry batch costs more to check than a
   * transfer), against the new head with `invalid` (the caller's rules; a reason when the
   * tx no longer applies), continuing where the previous call stopped, so that a large
   * pool is covered over a few blocks; one call never checks a tx twice. Each tx found
   * invalid is removed as by `remove` (its sender's later txs wait behind the gap it
   * leaves). Returns the removed txs.
   */
  revalidate(invalid: (tx: Tx) => string | undefined, budget: { txs: number; bytes?: number }): Tx[] {
    const out: Entry[] = [];
    const most = Math.min(budget.txs, this.size);
    let bytes = 0;
    for (let checked = 0; checked < most && bytes < (budget.bytes ?? Number.POSITIVE_INFINITY); checked++) {
      let next = this.recheck?.next();
      if (next === undefined || next.done === true) {
        this.recheck = this.byHash.values();
        next = this.recheck.next();
        if (next.done === true) break;
      }
      const e = next.value;
      bytes += e.tx.bytes.length;
      if (invalid(e.tx) === undefined) continue;
      this.removeEntry(e, undefined);
      out.push(e);
    }
    this.countByTier(out, (tier, n) => this.metrics.evicted('invalid', tier, n));
    return out.map((e) => e.tx);
  }

  /**
   * Removes one tx (e.g. found invalid). Its sender's later txs stay, now behind a gap,
   * until the nonce is filled, or they expire (maxGapAgeMs) or are evicted.
   */
  remove(hash: Uint8Array): boolean {
    const e = this.byHash.get(bytesKey(hash));
    if (e === undefined) return false;
    this.removeEntry(e, undefined);
    return true;
  }

  /**
   * Drops what timed out by `now` (the caller's clock, ms; call it regularly, e.g. on
   * every commit): each tx admitted maxTxAgeMs ago or earlier, with its sender's later
   * txs (they cannot execute without it), and every sender's txs behind a nonce gap that
   * has been open for maxGapAgeMs. A gap opened by a removal is timed from the first call
   * that sees it. Returns the dropped txs.
   */
  expire(now: number): Tx[] {
    const out: Entry[] = [];
    for (let e = this.ages.peek(this.isLive); e !== undefined && now - e.admittedAt >= this.limits.maxTxAgeMs; e = this.ages.peek(this.isLive)) {
      this.ages.shift();
      const chain = this.chains.get(e.senderKey)!;
      this.takeFrom(chain, chain.indexOf(e.tx.nonce), now, out);
    }
    const aged = out.length;
    for (const chain of this.eviction.gappedChains()) {
      if (this.chains.get(chain.key) !== chain || !chain.hasGap) continue; // emptied or closed above
      if (chain.gapSince === undefined) chain.gapSince = now;
      else if (now - chain.gapSince >= this.limits.maxGapAgeMs) this.takeFrom(chain, chain.runFrom(0, chain.baseNonce), now, out);
    }
    this.countExpired('age', out.slice(0, aged));
    this.countExpired('gap', out.slice(aged));
    return out.map((e) => e.tx);
  }

  /** O(n) self-check of every index and counter, for tests; throws on the first mismatch. */
  assertConsistent(): void {
    const { limits, byHash, chains, eviction, usage, devices, totalBytes, ages } = this;
    assertPoolConsistent({ limits, byHash, chains, eviction, usage, devices, totalBytes, queued: ages.length });
  }

  /** The rules of rules.ts, after the duplicate check that needs the whole pool, then the per-device bound. */
  private assess(tx: Tx, meta: AddMeta): Assessment {
    if (this.byHash.has(bytesKey(tx.hash))) throw new JouleError(ErrorCode.MEMPOOL_DUPLICATE, 'transaction is already in the mempool', 'tx.hash');
    const a = assess(this.chains.get(bytesKey(tx.from)), tx, meta, this.limits);
    if (meta.devices !== undefined) this.devices.check(meta.devices, a.old?.devices, this.limits.maxPerDevice);
    return a;
  }

  /** What a tier-`level` newcomer bringing `txs` more txs and `bytes` more bytes overflows, its tier's bound first. */
  private overflow(level: Level, txs: number, bytes: number): Overflow | undefined {
    const { limits, usage } = this;
    // A tier bounded only by the pool (100 %) is the pool's case: any tier's tail may make room.
    if (usage.txs[level]! + txs > limits.tierMaxTxs[level]! && limits.tierMaxTxs[level]! < limits.maxTxs) return 'tier';
    if (usage.bytes[level]! + bytes > limits.tierMaxBytes[level]! && limits.tierMaxBytes[level]! < limits.maxBytes) return 'tier';
    if (this.byHash.size + txs > limits.maxTxs || this.totalBytes + bytes > limits.maxBytes) return 'pool';
    return undefined;
  }

  /**
   * The tx to give up for a tier-`level` newcomer: over its tier's bound, one of that tier;
   * over the pool's, a gapped tail of any tier, else the lowest executable tail among its
   * own tier and the tiers holding more than their reserve.
   */
  private nextVictim(level: Level, over: Overflow): Victim | undefined {
    if (over === 'tier') {
      const mine = (l: Level) => l === level;
      return this.eviction.victim(mine, mine);
    }
    const { limits, usage } = this;
    const open = (l: Level) => l === level || usage.txs[l]! > limits.tierReservedTxs[l]! || usage.bytes[l]! > limits.tierReservedBytes[l]!;
    return this.eviction.victim(() => true, open);
  }

  /** Runs an admission step, counting its rejection by code and tier. */
  private counted<T>(tier: Tier, f: () => T): T {
    try {
      return f();
    } catch (e) {
      this.metrics.rejected(isJouleError(e) ? e.code : 'INTERNAL', tier);
      throw e;
    }
  }

  private countExpired(reason: ExpiryReason, gone: readonly Entry[]): void {
    this.countByTier(gone, (tier, n) => this.metrics.expired(reason, tier, n));
  }

  private countByTier(gone: readonly Entry[], emit: (tier: Tier, n: number) => void): void {
    if (gone.length === 0) return;
    const n = [0, 0, 0, 0];
    for (const e of gone) n[e.level]!++;
    n.forEach((count, level) => count > 0 && emit(tierAt(level as Level), count));
  }
}
