import { bytesKey } from './key.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import { SenderChain } from './chain.ts';
import { ranksBefore, type Entry } from './entry.ts';
import { Heap } from './heap.ts';

export interface MempoolLimits {
  /** Most txs held at once. */
  maxTxs: number;
  /** Most encoded bytes (sum of tx.bytes.length) held at once. */
  maxBytes: number;
  /** Most txs one sender may hold (executable and queued together). */
  maxPerSender: number;
  /** Highest admissible nonce is accountNonce + maxNonceGap. */
  maxNonceGap: number;
  /** A same-sender, same-nonce replacement must raise the fee by at least this percentage. */
  replaceBumpPercent: number;
}

/** What the caller knows about a tx at admission; the pool never derives any of it. */
export interface AddMeta {
  /** Ordering key, higher first; computed by the caller (fee, tier multiplier...). */
  priority: bigint;
  /** Tier name (grid_balancing, peer_to_peer, carbon_credit); stored for the tiered builder. */
  tier: string;
  /** The sender's nonce in the latest committed state. */
  accountNonce: number;
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

export interface SelectLimits {
  maxTxs: number;
  maxBytes: number;
}

/**
 * A bounded pool of pending transactions.
 *
 * Each sender's txs form a chain sorted by nonce; only a run of consecutive nonces
 * starting at the account's nonce is executable, anything after a gap waits ("queued").
 * Ordering across senders uses the caller's priority. Costs, n = pooled txs, s = senders,
 * k = one sender's txs (<= maxPerSender):
 *   add / remove: O(log s) plus one memmove of <= k pointers when not at a chain's end;
 *   select(m txs): O(s) nonce look-ups and heapify, then O(m log s);
 *   removeCommitted(b txs): O(b + touched senders * log s).
 */
export class Mempool {
  private readonly limits: MempoolLimits;
  private readonly byHash = new Map<string, Entry>();
  private readonly chains = new Map<string, SenderChain>();
  /** One item per sender: its chain, keyed by the chain's tail; lowest-ranked tail on top. */
  private readonly evictHeap = new Heap<SenderChain>(
    (a, b) => ranksBefore(b.tail, a.tail),
    (c, i) => {
      c.heapIndex = i;
    },
  );
  private readonly tierCounts = new Map<string, number>();
  private totalBytes = 0;
  private seq = 0;

  constructor(limits: MempoolLimits) {
    const positive = ['maxTxs', 'maxBytes', 'maxPerSender'] as const;
    for (const k of positive) {
      if (!Number.isSafeInteger(limits[k]) || limits[k] < 1) {
        throw new JouleError(ErrorCode.CONFIG_INVALID, `must be a positive integer, got ${limits[k]}`, `mempool.${k}`);
      }
    }
    for (const k of ['maxNonceGap', 'replaceBumpPercent'] as const) {
      if (!Number.isSafeInteger(limits[k]) || limits[k] < 0) {
        throw new JouleError(ErrorCode.CONFIG_INVALID, `must be a non-negative integer, got ${limits[k]}`, `mempool.${k}`);
      }
    }
    this.limits = { ...limits };
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

  /** One sender's pooled txs in nonce order (executable and queued). */
  senderTxs(from: Uint8Array): Tx[] {
    const chain = this.chains.get(bytesKey(from));
    return chain === undefined ? [] : chain.entries.map((e) => e.tx);
  }

  /** The nonce after the sender's executable run: what a wallet should sign next. */
  nextNonce(from: Uint8Array, accountNonce: number): number {
    const chain = this.chains.get(bytesKey(from));
    let next = accountNonce;
    if (chain === undefined) return next;
    for (let i = chain.lowerBound(accountNonce); i < chain.length && chain.entries[i]!.tx.nonce === next; i++) next++;
    return next;
  }

  stats(): MempoolStats {
    return { size: this.size, bytes: this.totalBytes, senders: this.chains.size, byTier: Object.fromEntries(this.tierCounts) };
  }

  /**
   * Admits a tx or throws JouleError (MEMPOOL_DUPLICATE, TX_NONCE_TOO_LOW,
   * TX_NONCE_TOO_HIGH, MEMPOOL_UNDERPRICED, MEMPOOL_SENDER_LIMIT, MEMPOOL_FULL). A failed
   * add leaves the pool as it was, except that the sender's stale txs (nonce below
   * meta.accountNonce) may have been dropped: they could never execute anyway.
   */
  add(tx: Tx, meta: AddMeta): AddResult {
    const { limits } = this;
    const key = bytesKey(tx.hash);
    if (this.byHash.has(key)) throw new JouleError(ErrorCode.MEMPOOL_DUPLICATE, 'transaction is already in the mempool', 'tx.hash');
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
    const size = tx.bytes.length;
    if (size > limits.maxBytes) {
      throw new JouleError(ErrorCode.MEMPOOL_FULL, `transaction of ${size} bytes exceeds the mempool's ${limits.maxBytes} bytes`, 'tx');
    }

    const senderKey = bytesKey(tx.from);
    const stale = this.pruneSender(senderKey, meta.accountNonce);
    const chain = this.chains.get(senderKey);
    const old = chain?.get(tx.nonce);
    if (old !== undefined) {
      // Rule: newFee >= oldFee * (100 + bump) / 100, compared as newFee * 100 >= oldFee * (100 + bump)
      // in bigint, so there is no division: equivalent to rounding the threshold UP
      // (fee 15, bump 10% -> 16.5 -> 17 required). Rounding down would let a 1-unit fee
      // replace itself for free.
      const needed = old.tx.fee * BigInt(100 + limits.replaceBumpPercent);
      if (tx.fee * 100n < needed) {
        const min = (needed + 99n) / 100n; // ceiling, for the message only
        throw new JouleError(
          ErrorCode.MEMPOOL_UNDERPRICED,
          `replacing nonce ${tx.nonce} needs a fee of at least ${min} (${limits.replaceBumpPercent}% above ${old.tx.fee}), got ${tx.fee}`,
          'tx.fee',
        );
      }
    } else if (chain !== undefined && chain.length >= limits.maxPerSender) {
      throw new JouleError(ErrorCode.MEMPOOL_SENDER_LIMIT, `sender already has ${chain.length} pending transactions (limit ${limits.maxPerSender})`, 'tx.from');
    }

    const entry: Entry = { tx, key, senderKey, priority: meta.priority, tier: meta.tier, seq: ++this.seq };
    if (old !== undefined) this.removeEntry(old);
    this.insertEntry(entry);

    // Make room by evicting chain tails (never a gap) that rank below the newcomer. If the
    // next candidate does not, undo everything: the newcomer is the one that does not fit.
    const pushedOut: Entry[] = [];
    while (this.byHash.size > limits.maxTxs || this.totalBytes > limits.maxBytes) {
      const victim = this.evictHeap.peek()!.tail;
      if (victim === entry || !ranksBefore(entry, victim)) {
        this.removeEntry(entry);
        if (old !== undefined) this.insertEntry(old);
        for (const e of pushedOut) this.insertEntry(e);
        throw new JouleError(
          ErrorCode.MEMPOOL_FULL,
          `mempool is full (${limits.maxTxs} txs, ${limits.maxBytes} bytes) and nothing evictable ranks below priority ${meta.priority}`,
          'tx',
        );
      }
      this.removeEntry(victim);
      pushedOut.push(victim);
    }
    const evicted = stale.concat(pushedOut).map((e) => e.tx);
    return { replaced: old?.tx, evicted };
  }

  /**
   * Executable txs for a block: across senders highest priority first (ties: earlier
   * arrival), each sender's txs in consecutive nonce order from its account nonce. A
   * sender whose next tx does not fit the remaining bytes stops there (later nonces
   * cannot jump it), others continue. Does not remove anything.
   */
  select(limits: SelectLimits, accountNonce: (from: Uint8Array) => number): Tx[] {
    const out: Tx[] = [];
    if (limits.maxTxs <= 0 || limits.maxBytes <= 0) return out;
    // One cursor per sender with an executable head. Priority and seq are copied onto the
    // cursor so the heap compares without chasing pointers into entries (this loop runs
    // O(m log s) compares per block and dominated select's profile).
    interface Cursor {
      entries: Entry[];
      i: number;
      e: Entry;
      p: bigint;
      s: number;
    }
    const heads: Cursor[] = [];
    for (const chain of this.chains.values()) {
      const i = chain.indexOf(accountNonce(chain.from));
      if (i >= 0) {
        const e = chain.entries[i]!;
        heads.push({ entries: chain.entries, i, e, p: e.priority, s: e.seq });
      }
    }
    // Same order as ranksBefore (seq is unique, so the hash tie-break is never reached).
    const heap = new Heap<Cursor>((a, b) => a.p > b.p || (a.p === b.p && a.s < b.s));
    heap.heapify(heads);
    let bytes = 0;
    while (out.length < limits.maxTxs) {
      const c = heap.peek();
      if (c === undefined) break;
      const size = c.e.tx.bytes.length;
      if (bytes + size > limits.maxBytes) {
        heap.pop();
        continue;
      }
      out.push(c.e.tx);
      bytes += size;
      const next = c.entries[c.i + 1];
      if (next !== undefined && next.tx.nonce === c.e.tx.nonce + 1) {
        c.i++;
        c.e = next;
        c.p = next.priority;
        c.s = next.seq;
        heap.update(0);
      } else {
        heap.pop();
      }
    }
    return out;
  }

  /**
   * After a block: drops the included txs, then every tx of the block's senders whose
   * nonce is now below the account nonce (a competing tx with the same nonce, included
   * elsewhere, is superseded). Only senders in the block can have moved their nonce.
   */
  removeCommitted(txs: readonly Tx[], accountNonce: (from: Uint8Array) => number): void {
    // Consecutive txs of one sender share a key; remember the last to skip re-keying.
    const nonces = new Map<string, number>();
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
      if (!nonces.has(lastKey)) nonces.set(lastKey, accountNonce(from));
    }
    // One splice per sender first, so a sender with thousands of txs in the block is not
    // removed one memmove at a time. That already removes every included tx we hold
    // (its nonce is below the new account nonce); only the rest need a hash look-up.
    for (const [senderKey, nonce] of nonces) this.pruneSender(senderKey, nonce);
    for (let i = 0; i < txs.length; i++) {
      const tx = txs[i]!;
      if (tx.nonce < nonces.get(keys[i]!)!) continue;
      const e = this.byHash.get(bytesKey(tx.hash));
      if (e !== undefined) this.removeEntry(e);
    }
  }

  /**
   * Removes one tx (e.g. found invalid). Its sender's later txs stay, now queued behind a
   * gap, until the nonce is filled or they are evicted.
   */
  remove(hash: Uint8Array): boolean {
    const e = this.byHash.get(bytesKey(hash));
    if (e === undefined) return false;
    this.removeEntry(e);
    return true;
  }

  /** O(n) self-check of every index and counter, for tests; throws on the first mismatch. */
  assertConsistent(): void {
    let bytes = 0;
    let count = 0;
    const tiers = new Map<string, number>();
    for (const [senderKey, chain] of this.chains) {
      if (chain.length === 0) throw new Error(`empty chain ${senderKey}`);
      if (chain.length > this.limits.maxPerSender) throw new Error(`chain ${senderKey} over maxPerSender`);
      if (chain.heapIndex < 0) throw new Error(`chain ${senderKey} not in eviction heap`);
      let prev = -1;
      for (const e of chain.entries) {
        if (e.tx.nonce <= prev) throw new Error(`chain ${senderKey} not strictly nonce-sorted`);
        prev = e.tx.nonce;
        if (this.byHash.get(e.key) !== e || e.senderKey !== senderKey) throw new Error(`entry ${e.key} not indexed`);
        bytes += e.tx.bytes.length;
        count++;
        tiers.set(e.tier, (tiers.get(e.tier) ?? 0) + 1);
      }
    }
    if (count !== this.byHash.size) throw new Error(`hash index has ${this.byHash.size}, chains ${count}`);
    if (bytes !== this.totalBytes) throw new Error(`bytes counter ${this.totalBytes}, actual ${bytes}`);
    if (this.evictHeap.size !== this.chains.size) throw new Error('eviction heap size mismatch');
    const top = this.evictHeap.peek();
    for (const chain of this.chains.values()) {
      if (top !== undefined && ranksBefore(top.tail, chain.tail)) throw new Error('eviction heap top is not the lowest tail');
    }
    for (const [tier, n] of this.tierCounts) if (tiers.get(tier) !== n) throw new Error(`tier ${tier} count mismatch`);
    if (tiers.size !== this.tierCounts.size) throw new Error('tier count keys mismatch');
    if (count > this.limits.maxTxs || bytes > this.limits.maxBytes) throw new Error('pool over its limits');
  }

  private pruneSender(senderKey: string, accountNonce: number): Entry[] {
    const chain = this.chains.get(senderKey);
    if (chain === undefined) return [];
    const stale = chain.takeBelow(accountNonce);
    if (stale.length === 0) return stale;
    for (const e of stale) this.account(e, -1);
    // The tail only changes if the whole chain went; otherwise its heap key is unchanged.
    if (chain.length === 0) this.dropChain(chain);
    return stale;
  }

  private insertEntry(e: Entry): void {
    let chain = this.chains.get(e.senderKey);
    if (chain === undefined) {
      chain = new SenderChain(e.senderKey, e.tx.from);
      this.chains.set(e.senderKey, chain);
    }
    const oldTail = chain.length === 0 ? undefined : chain.tail;
    chain.insert(e);
    this.account(e, 1);
    if (chain.heapIndex < 0) this.evictHeap.push(chain);
    else if (chain.tail !== oldTail) this.evictHeap.update(chain.heapIndex);
  }

  private removeEntry(e: Entry): void {
    const chain = this.chains.get(e.senderKey)!;
    const wasTail = chain.tail === e;
    chain.remove(e);
    this.account(e, -1);
    if (chain.length === 0) this.dropChain(chain);
    else if (wasTail) this.evictHeap.update(chain.heapIndex);
  }

  private dropChain(chain: SenderChain): void {
    this.evictHeap.removeAt(chain.heapIndex);
    chain.heapIndex = -1;
    this.chains.delete(chain.key);
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
