import type { SenderChain } from './chain.ts';
import { evictsBefore, type Entry } from './entry.ts';
import type { Heap } from './heap.ts';
import type { Limits } from './limits.ts';

/** A pool's indexes and counters, as Mempool holds them. */
export interface PoolState {
  readonly limits: Limits;
  readonly byHash: ReadonlyMap<string, Entry>;
  readonly chains: ReadonlyMap<string, SenderChain>;
  readonly readyHeap: Heap<SenderChain>;
  readonly gappedHeap: Heap<SenderChain>;
  readonly tierCounts: ReadonlyMap<string, number>;
  readonly totalBytes: number;
  /** Entries in the age queue (live or not). */
  readonly queued: number;
}

/** O(n) check that every index and counter of a pool agrees with its chains, for tests; throws on the first mismatch. */
export function assertPoolConsistent(p: PoolState): void {
  let bytes = 0;
  let count = 0;
  const tiers = new Map<string, number>();
  for (const [senderKey, chain] of p.chains) {
    if (chain.length === 0) throw new Error(`empty chain ${senderKey}`);
    if (chain.length > p.limits.maxPerSender) throw new Error(`chain ${senderKey} over maxPerSender`);
    if (chain.heapIndex < 0) throw new Error(`chain ${senderKey} not in an eviction heap`);
    if (chain.inGappedHeap !== chain.hasGap) throw new Error(`chain ${senderKey} in the wrong eviction heap`);
    if (chain.hasGap === (chain.runFrom(0, chain.baseNonce) === chain.length)) throw new Error(`chain ${senderKey} run and gap disagree`);
    if (!chain.hasGap && chain.gapSince !== undefined) throw new Error(`chain ${senderKey} has gapSince without a gap`);
    let prev = -1;
    let cost = 0n;
    let floor: bigint | undefined;
    for (const e of chain.entries) {
      if (e.tx.nonce <= prev) throw new Error(`chain ${senderKey} not strictly nonce-sorted`);
      if (e.tx.nonce < chain.baseNonce) throw new Error(`chain ${senderKey} holds a stale nonce`);
      prev = e.tx.nonce;
      floor = floor === undefined || e.priority < floor ? e.priority : floor;
      if (e.floor !== floor) throw new Error(`entry ${e.key} floor ${e.floor}, expected ${floor}`);
      if (p.byHash.get(e.key) !== e || e.senderKey !== senderKey) throw new Error(`entry ${e.key} not indexed`);
      cost += e.cost;
      bytes += e.tx.bytes.length;
      count++;
      tiers.set(e.tier, (tiers.get(e.tier) ?? 0) + 1);
    }
    if (cost !== chain.cost) throw new Error(`chain ${senderKey} cost ${chain.cost}, actual ${cost}`);
  }
  if (count !== p.byHash.size) throw new Error(`hash index has ${p.byHash.size}, chains ${count}`);
  if (bytes !== p.totalBytes) throw new Error(`bytes counter ${p.totalBytes}, actual ${bytes}`);
  if (p.readyHeap.size + p.gappedHeap.size !== p.chains.size) throw new Error('eviction heap sizes mismatch');
  for (const [heap, gapped] of [
    [p.readyHeap, false],
    [p.gappedHeap, true],
  ] as const) {
    const items = heap.toArray();
    items.forEach((chain, i) => {
      if (chain.inGappedHeap !== gapped || chain.heapIndex !== i || p.chains.get(chain.key) !== chain)
        throw new Error(`chain ${chain.key} misplaced in an eviction heap`);
      if (evictsBefore(chain.tail, items[0]!.tail)) throw new Error('eviction heap top is not the first to evict');
    });
  }
  for (const [tier, n] of p.tierCounts) if (tiers.get(tier) !== n) throw new Error(`tier ${tier} count mismatch`);
  if (tiers.size !== p.tierCounts.size) throw new Error('tier count keys mismatch');
  if (count > p.limits.maxTxs || bytes > p.limits.maxBytes) throw new Error('pool over its limits');
  if (p.queued < count) throw new Error('age queue lost entries');
}
