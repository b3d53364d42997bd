import { SenderChain } from './chain.ts';
import { DeviceCounts } from './devices.ts';
import type { Entry } from './entry.ts';
import { EvictionIndex } from './eviction.ts';
import { TierUsage } from './tiers.ts';

/**
 * The pool's indexes and the moves that keep them in step: by hash, by sender (chains),
 * the eviction heaps, and the counters by tier and by device. Every entry goes in and out
 * through insertEntry / removeEntry / rebase / takeFrom, so no index can drift from
 * another (consistency.ts checks it). Mempool (mempool.ts) holds the rules.
 */
export class PoolStore {
  protected readonly byHash = new Map<string, Entry>();
  protected readonly chains = new Map<string, SenderChain>();
  protected readonly eviction = new EvictionIndex();
  protected readonly usage = new TierUsage();
  protected readonly devices = new DeviceCounts();
  protected totalBytes = 0;

  /** Tells a sender's chain its account nonce and drops what is below it. */
  protected rebase(senderKey: string, accountNonce: number): Entry[] {
    const chain = this.chains.get(senderKey);
    if (chain === undefined) return [];
    chain.baseNonce = accountNonce;
    const stale = chain.takeBelow(accountNonce);
    for (const e of stale) this.account(e, -1);
    this.placed(chain, undefined);
    return stale;
  }

  /** Removes entries[i..] of `chain` (a tx and the txs that depend on it) into `out`. */
  protected takeFrom(chain: SenderChain, i: number, now: number, out: Entry[]): void {
    const gone = chain.takeFrom(i);
    for (const e of gone) {
      this.account(e, -1);
      out.push(e);
    }
    this.placed(chain, now);
  }

  protected insertEntry(e: Entry, baseNonce: number, now: number | undefined): SenderChain {
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

  protected removeEntry(e: Entry, now: number | undefined): void {
    const chain = this.chains.get(e.senderKey)!;
    chain.remove(e);
    this.account(e, -1);
    this.placed(chain, now);
  }

  /** After a chain changed: drop it if empty, else put it in the eviction heap its tail and gap state call for, in order. */
  protected placed(chain: SenderChain, now: number | undefined): void {
    if (chain.length === 0) {
      this.eviction.drop(chain);
      this.chains.delete(chain.key);
      return;
    }
    if (!chain.hasGap) chain.gapSince = undefined;
    else chain.gapSince ??= now;
    this.eviction.place(chain);
  }

  protected account(e: Entry, sign: 1 | -1): void {
    if (sign === 1) this.byHash.set(e.key, e);
    else this.byHash.delete(e.key);
    this.totalBytes += sign * e.tx.bytes.length;
    this.usage.add(e.level, e.tx.bytes.length, sign);
    if (e.devices.length > 0) this.devices.add(e.devices, sign);
  }
}
