import { bytesKey } from './key.ts';
import { ErrorCode, isJouleError, JouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import { AgeQueue } from './age-queue.ts';
import { SenderChain } from './chain.ts';
import { evictsBefore, type Entry } from './entry.ts';
import { Heap } from './heap.ts';
import { assertPoolConsistent } from './consistency.ts';
import { checkLimits, type Limits, type MempoolLimits } from './limits.ts';
import { assess, fullError, outranks, type AddMeta, type Assessment, type Victim } from './rules.ts';
import { NO_MEMPOOL_METRICS, type MempoolMetrics } from './metrics.ts';
import { selectExecutable, type SelectLimits } from './select.ts';

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
  byTier: Record<string, number>;
}

/**
 * A bounded pool of pending transactions.
 *
 * Each sender's txs form a chain sorted by nonce; only a run of consecutive nonces
 * starting at the account's nonce is executable, anything after a gap waits ("gapped").
 * Holding pool space must cost what getting in costs an honest user, so:
 * - a sender's pooled txs together (fees and amounts) must fit its balance at the head;
 * - a full pool evicts chain tails, gapped ones first (they cannot execute), then the
 *   executable tail with the lowest floor (the cheapest predecessor decides what a tx is
 *   worth), and only for a newcomer that outranks it by replaceBumpPercent;
 * - gapped txs leave once their gap is maxGapAgeMs old, any tx maxTxAgeMs after admission.
 * Ordering for blocks uses the caller's priority (select.ts). Costs, n = pooled txs,
 * s = senders, k = one sender's txs (<= maxPerSender):
 *   add / remove: O(log s + log k) plus one memmove of <= k pointers when not at a chain's end;
 *   select(m txs): O(s) nonce look-ups and heapify, then O(m log s);
 *   removeCommitted(b txs): O(b + touched senders * log s);
 *   expire: O(expired + gapped senders).
 */
export class Mempool {
  private readonly limits: Limits;
  private readonly metrics: MempoolMetrics;
  private readonly byHash = new Map<string, Entry>();
  private readonly chains = new Map<string, SenderChain>();
  /** Chains without a gap, keyed by their tail; the tail to evict first on top. */
  private readonly readyHeap = new Heap<SenderChain>(
    (a, b) => evictsBefore(a.tail, b.tail),
    (c, i) => void (c.heapIndex = i),
  );
  /** Chains with a gap (their tail is gapped), likewise; evicted before any ready chain. */
  private readonly gappedHeap = new Heap<SenderChain>(
    (a, b) => evictsBefore(a.tail, b.tail),
    (c, i) => void (c.heapIndex = i),
  );
  private readonly ages = new AgeQueue();
  private readonly tierCounts = new Map<string, number>();
  private totalBytes = 0;
  private seq = 0;
  private readonly isLive = (e: Entry): boolean => this.byHash.get(e.key) === e;

  constructor(limits: MempoolLimits, metrics: MempoolMetrics = NO_MEMPOOL_METRICS) {
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
  meta(hash: Uint8Array): { priority: bigint; tier: string; seq: number } | undefined {
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

  stats(): MempoolStats {
    return { size: this.size, bytes: this.totalBytes, senders: this.chains.size, byTier: Object.fromEntries(this.tierCounts) };
  }

  /**
   * The rules of `add` that need no change to the pool, for a caller that wants to refuse
   * early (before verifying signatures). Optimistic where the sender's earlier txs may
   * still be on their way in: a full pool refuses here only a tx that would not get in
   * even as an executable one. What it refuses, `add` refuses too, with the same code.
   */
  precheck(tx: Tx, meta: AddMeta): void {
    this.counted(() => {
      const a = this.assess(tx, meta);
      // Only for a tx that will be its chain's tail: one put before later txs of its sender may make room by evicting those.
      if (!a.last || !this.over(a.old === undefined ? 1 : 0, tx.bytes.length - (a.old?.tx.bytes.length ?? 0))) return;
      const victim = this.nextVictim();
      if (victim !== undefined && !outranks(true, a.floor, victim, this.limits.replaceBumpPercent)) throw fullError(this.limits, meta.priority);
    });
  }

  /**
   * Admits a tx or throws JouleError (MEMPOOL_DUPLICATE, TX_NONCE_TOO_LOW,
   * TX_NONCE_TOO_HIGH, MEMPOOL_UNDERPRICED, MEMPOOL_SENDER_LIMIT,
   * MEMPOOL_INSUFFICIENT_FUNDS, MEMPOOL_FULL). A failed add leaves the pool as it was,
   * except that the sender's stale txs (nonce below meta.accountNonce) may have been
   * dropped: they could never execute anyway.
   */
  add(tx: Tx, meta: AddMeta): AddResult {
    return this.counted(() => {
      const a = this.assess(tx, meta);
      const senderKey = bytesKey(tx.from);
      const stale = this.rebase(senderKey, meta.accountNonce);
      const entry: Entry = {
        tx,
        key: bytesKey(tx.hash),
        senderKey,
        priority: meta.priority,
        tier: meta.tier,
        seq: ++this.seq,
        cost: meta.cost,
        admittedAt: meta.now,
        floor: meta.priority,
      };
      if (a.old !== undefined) this.removeEntry(a.old, meta.now);
      this.insertEntry(entry, meta.accountNonce, meta.now);

      // Make room by evicting chain tails that rank below the newcomer. If the next
      // candidate does not, undo everything: the newcomer is the one that does not fit.
      const pushedOut: { victim: Victim; baseNonce: number; gapSince: number | undefined }[] = [];
      while (this.over(0, 0)) {
        const victim = this.nextVictim()!;
        if (victim.entry === entry || !outranks(a.ready, entry.floor, victim, this.limits.replaceBumpPercent)) {
          this.removeEntry(entry, undefined);
          if (a.old !== undefined) this.insertEntry(a.old, meta.accountNonce, undefined);
          for (const p of pushedOut.reverse()) {
            const chain = this.insertEntry(p.victim.entry, p.baseNonce, undefined);
            if (chain.hasGap) chain.gapSince = p.gapSince;
          }
          throw fullError(this.limits, meta.priority);
        }
        const chain = this.chains.get(victim.entry.senderKey)!;
        pushedOut.push({ victim, baseNonce: chain.baseNonce, gapSince: chain.gapSince });
        this.removeEntry(victim.entry, meta.now);
      }
      this.ages.push(entry, this.size, this.isLive);
      const gapped = pushedOut.filter((p) => p.victim.gapped).length;
      if (gapped > 0) this.metrics.evicted('gapped', gapped);
      if (pushedOut.length > gapped) this.metrics.evicted('outbid', pushedOut.length - gapped);
      return { replaced: a.old?.tx, evicted: stale.concat(pushedOut.map((p) => p.victim.entry)).map((e) => e.tx) };
    });
  }

  /**
   * Executable txs for a block: across senders highest priority first (ties: earlier
   * arrival), each sender's txs in consecutive nonce order from its account nonce. A
   * sender whose next tx does not fit the remaining bytes stops there (later nonces
   * cannot jump it), others continue. Does not remove anything.
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
  removeCommitted(txs: readonly Tx[], accountOf: (from: Uint8Array) => AccountView): void {
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
    // One splice per sender first, so a sender with thousands of txs in the block is not
    // removed one memmove at a time. That already removes every included tx we hold
    // (its nonce is below the new account nonce); only the rest need a hash look-up.
    let unfunded = 0;
    for (const [senderKey, account] of accounts) {
      this.rebase(senderKey, account.nonce);
      const chain = this.chains.get(senderKey);
      while (chain !== undefined && chain.length > 0 && chain.cost > account.balance) {
        this.removeEntry(chain.tail, undefined);
        unfunded++;
      }
    }
    if (unfunded > 0) this.metrics.evicted('unfunded', unfunded);
    for (let i = 0; i < txs.length; i++) {
      const tx = txs[i]!;
      if (tx.nonce < accounts.get(keys[i]!)!.nonce) continue;
      const e = this.byHash.get(bytesKey(tx.hash));
      if (e !== undefined) this.removeEntry(e, undefined);
    }
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
    const out: Tx[] = [];
    let aged = 0;
    for (let e = this.ages.peek(this.isLive); e !== undefined && now - e.admittedAt >= this.limits.maxTxAgeMs; e = this.ages.peek(this.isLive)) {
      this.ages.shift();
      const chain = this.chains.get(e.senderKey)!;
      aged += this.takeFrom(chain, chain.indexOf(e.tx.nonce), now, out);
    }
    let gapped = 0;
    for (const chain of this.gappedHeap.toArray()) {
      if (this.chains.get(chain.key) !== chain || !chain.inGappedHeap) continue; // emptied or closed above
      if (chain.gapSince === undefined) chain.gapSince = now;
      else if (now - chain.gapSince >= this.limits.maxGapAgeMs) gapped += this.takeFrom(chain, chain.runFrom(0, chain.baseNonce), now, out);
    }
    if (aged > 0) this.metrics.expired('age', aged);
    if (gapped > 0) this.metrics.expired('gap', gapped);
    return out;
  }

  /** O(n) self-check of every index and counter, for tests; throws on the first mismatch. */
  assertConsistent(): void {
    const { limits, byHash, chains, readyHeap, gappedHeap, tierCounts, totalBytes, ages } = this;
    assertPoolConsistent({ limits, byHash, chains, readyHeap, gappedHeap, tierCounts, totalBytes, queued: ages.length });
  }

  /** The rules of rules.ts, after the duplicate check that needs the whole pool. */
  private assess(tx: Tx, meta: AddMeta): Assessment {
    if (this.byHash.has(bytesKey(tx.hash))) throw new JouleError(ErrorCode.MEMPOOL_DUPLICATE, 'transaction is already in the mempool', 'tx.hash');
    return assess(this.chains.get(bytesKey(tx.from)), tx, meta, this.limits);
  }

  /** Over a limit once `txs` more txs and `bytes` more bytes are in. */
  private over(txs: number, bytes: number): boolean {
    return this.byHash.size + txs > this.limits.maxTxs || this.totalBytes + bytes > this.limits.maxBytes;
  }

  /** The tx a full pool gives up first: the first gapped tail, else the first executable one. */
  private nextVictim(): Victim | undefined {
    const gapped = this.gappedHeap.peek();
    if (gapped !== undefined) return { entry: gapped.tail, gapped: true };
    const ready = this.readyHeap.peek();
    return ready === undefined ? undefined : { entry: ready.tail, gapped: false };
  }

  /** Runs an admission step, counting its rejection by code. */
  private counted<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      this.metrics.rejected(isJouleError(e) ? e.code : 'INTERNAL');
      throw e;
    }
  }

  /** Tells a sender's chain its account nonce and drops what is below it. */
  private rebase(senderKey: string, accountNonce: number): Entry[] {
    const chain = this.chains.get(senderKey);
    if (chain === undefined) return [];
    chain.baseNonce = accountNonce;
    const stale = chain.takeBelow(accountNonce);
    for (const e of stale) this.account(e, -1);
    this.placed(chain, undefined);
    return stale;
  }

  /** Removes entries[i..] of `chain` (a tx and the txs that depend on it) into `out`; returns how many. */
  private takeFrom(chain: SenderChain, i: number, now: number, out: Tx[]): number {
    const gone = chain.takeFrom(i);
    for (const e of gone) {
      this.account(e, -1);
      out.push(e.tx);
    }
    this.placed(chain, now);
    return gone.length;
  }

  private insertEntry(e: Entry, baseNonce: number, now: number | undefined): SenderChain {
    let chain = this.chains.get(e.senderKey);
    if (chain === undefined) {
      chain = new SenderChain(e.senderKey, e.tx.from, baseNonce);
      this.chains.set(e.senderKey, chain);
    }
    chain.insert(e);
    this.account(e, 1);
    this.placed(chain, now);
    return chain;
  }

  private removeEntry(e: Entry, now: number | undefined): void {
    const chain = this.chains.get(e.senderKey)!;
    chain.remove(e);
    this.account(e, -1);
    this.placed(chain, now);
  }

  /** After a chain changed: drop it if empty, else put it in the eviction heap its gap state calls for, in order. */
  private placed(chain: SenderChain, now: number | undefined): void {
    if (chain.length === 0) {
      if (chain.heapIndex >= 0) this.heapOf(chain).removeAt(chain.heapIndex);
      chain.heapIndex = -1;
      this.chains.delete(chain.key);
      return;
    }
    const gapped = chain.hasGap;
    if (!gapped) chain.gapSince = undefined;
    else chain.gapSince ??= now;
    if (chain.heapIndex >= 0 && chain.inGappedHeap !== gapped) {
      this.heapOf(chain).removeAt(chain.heapIndex);
      chain.heapIndex = -1;
    }
    chain.inGappedHeap = gapped;
    if (chain.heapIndex < 0) this.heapOf(chain).push(chain);
    else this.heapOf(chain).update(chain.heapIndex);
  }

  private heapOf(chain: SenderChain): Heap<SenderChain> {
    return chain.inGappedHeap ? this.gappedHeap : this.readyHeap;
  }

  private account(e: Entry, sign: 1 | -1): void {
    if (sign === 1) this.byHash.set(e.key, e);
    else this.byHash.delete(e.key);
    this.totalBytes += sign * e.tx.bytes.length;
    const n = (this.tierCounts.get(e.tier) ?? 0) + sign;
    if (n === 0) this.tierCounts.delete(e.tier);
    else this.tierCounts.set(e.tier, n);
  }
}
