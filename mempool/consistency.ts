import type { SenderChain } from './chain.ts';
import type { DeviceCounts } from './devices.ts';
import { evictsBefore, type Entry } from './entry.ts';
import type { EvictionIndex } from './eviction.ts';
import type { Limits } from './limits.ts';
import { ranksBelow, type Level, type TierUsage } from './tiers.ts';

/** A pool's indexes and counters, as Mempool holds them. */
export interface PoolState {
  readonly limits: Limits;
  readonly byHash: ReadonlyMap<string, Entry>;
  readonly chains: ReadonlyMap<string, SenderChain>;
  readonly eviction: EvictionIndex;
  readonly usage: TierUsage;
  readonly devices: DeviceCounts;
  readonly totalBytes: number;
  /** Entries in the age queue (live or not). */
  readonly queued: number;
}

/** O(n) check that every index and counter of a pool agrees with its chains, for tests; throws on the first mismatch. */
export function assertPoolConsistent(p: PoolState): void {
  let bytes = 0;
  let count = 0;
  const tierTxs = [0, 0, 0, 0];
  const tierBytes = [0, 0, 0, 0];
  const devices = new Map<string, number>();
  for (const [senderKey, chain] of p.chains) {
    if (chain.length === 0) throw new Error(`empty chain ${senderKey}`);
    if (chain.length > p.limits.maxPerSender) throw new Error(`chain ${senderKey} over maxPerSender`);
    if (chain.heapSlot < 0) throw new Error(`chain ${senderKey} not in an eviction heap`);
    if (chain.hasGap === (chain.runFrom(0, chain.baseNonce) === chain.length)) throw new Error(`chain ${senderKey} run and gap disagree`);
    if (!chain.hasGap && chain.gapSince !== undefined) throw new Error(`chain ${senderKey} has gapSince without a gap`);
    let prev = -1;
    let cost = 0n;
    let floorLevel: Level | undefined;
    let floor = 0n;
    for (const e of chain.entries) {
      if (e.tx.nonce <= prev) throw new Error(`chain ${senderKey} not strictly nonce-sorted`);
      if (e.tx.nonce < chain.baseNonce) throw new Error(`chain ${senderKey} holds a stale nonce`);
      prev = e.tx.nonce;
      if (floorLevel === undefined || ranksBelow(e.level, e.priority, floorLevel, floor)) {
        floorLevel = e.level;
        floor = e.priority;
      }
      if (e.floor !== floor || e.floorLevel !== floorLevel) throw new Error(`entry ${e.key} floor ${e.floorLevel}/${e.floor}, expected ${floorLevel}/${floor}`);
      if (p.byHash.get(e.key) !== e || e.senderKey !== senderKey) throw new Error(`entry ${e.key} not indexed`);
      cost += e.cost;
      bytes += e.tx.bytes.length;
      count++;
      tierTxs[e.level]!++;
      tierBytes[e.level]! += e.tx.bytes.length;
      for (const d of e.devices) devices.set(d, (devices.get(d) ?? 0) + 1);
    }
    if (cost !== chain.cost) throw new Error(`chain ${senderKey} cost ${chain.cost}, actual ${cost}`);
  }
  if (count !== p.byHash.size) throw new Error(`hash index has ${p.byHash.size}, chains ${count}`);
  if (bytes !== p.totalBytes) throw new Error(`bytes counter ${p.totalBytes}, actual ${bytes}`);
  if (p.eviction.size !== p.chains.size) throw new Error('eviction heap sizes mismatch');
  for (const { slot, chains, expected } of p.eviction.slots()) {
    chains.forEach((chain, i) => {
      if (chain.heapSlot !== slot || expected(chain) !== slot || chain.heapIndex !== i || p.chains.get(chain.key) !== chain)
        throw new Error(`chain ${chain.key} misplaced in an eviction heap`);
      if (evictsBefore(chain.tail, chains[0]!.tail)) throw new Error('eviction heap top is not the first to evict');
    });
  }
  for (let l = 0; l < 4; l++) {
    if (p.usage.txs[l] !== tierTxs[l] || p.usage.bytes[l] !== tierBytes[l]) throw new Error(`tier level ${l} usage mismatch`);
    if (tierTxs[l]! > p.limits.tierMaxTxs[l]! || tierBytes[l]! > p.limits.tierMaxBytes[l]!) throw new Error(`tier level ${l} over its bound`);
  }
  if (devices.size !== p.devices.size) throw new Error('device count keys mismatch');
  for (const [d, n] of p.devices.entries()) {
    if (devices.get(d) !== n) throw new Error(`device ${d} count mismatch`);
    if (n > p.limits.maxPerDevice) throw new Error(`device ${d} over maxPerDevice`);
  }
  if (count > p.limits.maxTxs || bytes > p.limits.maxBytes) throw new Error('pool over its limits');
  if (p.queued < count) throw new Error('age queue lost entries');
}
