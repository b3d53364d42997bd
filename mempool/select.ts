import type { Tx } from '../core/tx.ts';
import type { SenderChain } from './chain.ts';
import type { Entry } from './entry.ts';
import { Heap } from './heap.ts';
import { LEVELS_HIGH_FIRST, levelOf, TIERS, type Tier } from './tiers.ts';

export interface SelectLimits {
  maxTxs: number;
  maxBytes: number;
  /**
   * Each tier's minimum share of the block, in basis points of maxTxs and of maxBytes
   * (the chain's TierParams.minBlockShareBps); a tier left out has none. The system tier
   * needs none: it always goes first.
   */
  shares?: Partial<Record<Tier, number>>;
}

/** One cursor per sender with an executable head; priority and seq copied so the heap compares without chasing pointers. */
interface Cursor {
  entries: Entry[];
  i: number;
  e: Entry;
  p: bigint;
  s: number;
}

const SYSTEM = levelOf('system');

/**
 * Executable txs for a block, each sender's in consecutive nonce order from its account
 * nonce, filled tier by tier in two passes:
 *   1. every tier in order (system, grid_balancing, peer_to_peer, carbon_credit) takes
 *      its txs up to its minimum share (system: without bound), so a flood of a higher
 *      tier cannot starve a lower one that has txs;
 *   2. the space left goes tier by tier in the same order, so unused shares flow to
 *      whichever tiers have more.
 * Within a tier, the highest priority first (ties: the earlier arrival). A sender's next
 * tx may be of another tier: the sender then waits in that tier's queue (its later nonces
 * cannot jump it). A sender whose next tx does not fit the block's remaining bytes stops
 * there; in pass 1 a tier whose next tx would exceed its share ends its pass.
 *
 * The order depends only on (tier, priority, seq), a total order since seq is unique in a
 * pool: the heaps' pops do not depend on the order `chains` yields its senders in.
 */
export function selectExecutable(chains: Iterable<SenderChain>, limits: SelectLimits, accountNonce: (from: Uint8Array) => number): Tx[] {
  const out: Tx[] = [];
  if (limits.maxTxs <= 0 || limits.maxBytes <= 0) return out;
  const heads: Cursor[][] = [[], [], [], []];
  for (const chain of chains) {
    const i = chain.indexOf(accountNonce(chain.from));
    if (i >= 0) {
      const e = chain.entries[i]!;
      heads[e.level]!.push({ entries: chain.entries, i, e, p: e.priority, s: e.seq });
    }
  }
  // Within a tier the same order as ranksBefore (entry.ts); seq is unique, so the hash tie-break is never reached.
  const heaps = heads.map((h) => {
    const heap = new Heap<Cursor>((a, b) => a.p > b.p || (a.p === b.p && a.s < b.s));
    heap.heapify(h);
    return heap;
  });
  const shareTxs = [0, 0, 0, 0];
  const shareBytes = [0, 0, 0, 0];
  for (const tier of TIERS) {
    const bps = BigInt(limits.shares?.[tier] ?? 0);
    const level = levelOf(tier);
    shareTxs[level] = Number((BigInt(limits.maxTxs) * bps) / 10_000n);
    shareBytes[level] = Number((BigInt(limits.maxBytes) * bps) / 10_000n);
  }
  const usedTxs = [0, 0, 0, 0];
  const usedBytes = [0, 0, 0, 0];
  const closed = [false, false, false, false];
  let bytes = 0;

  const fill = (withinShares: boolean): void => {
    while (out.length < limits.maxTxs) {
      const level = LEVELS_HIGH_FIRST.find((l) => heaps[l]!.size > 0 && !(withinShares && closed[l]));
      if (level === undefined) return;
      const heap = heaps[level]!;
      const c = heap.peek()!;
      const size = c.e.tx.bytes.length;
      if (bytes + size > limits.maxBytes) {
        heap.pop();
        continue;
      }
      if (withinShares && level !== SYSTEM && (usedTxs[level]! + 1 > shareTxs[level]! || usedBytes[level]! + size > shareBytes[level]!)) {
        closed[level] = true;
        continue;
      }
      out.push(c.e.tx);
      bytes += size;
      usedTxs[level]!++;
      usedBytes[level]! += size;
      const next = c.entries[c.i + 1];
      if (next === undefined || next.tx.nonce !== c.e.tx.nonce + 1) {
        heap.pop();
        continue;
      }
      c.i++;
      c.e = next;
      c.p = next.priority;
      c.s = next.seq;
      if (next.level === level) {
        heap.update(0);
      } else {
        heap.pop();
        heaps[next.level]!.push(c);
      }
    }
  };
  fill(true);
  fill(false);
  return out;
}
