import type { Tx } from '../core/tx.ts';
import type { SenderChain } from './chain.ts';
import type { Entry } from './entry.ts';
import { Heap } from './heap.ts';

export interface SelectLimits {
  maxTxs: number;
  maxBytes: number;
}

/** One cursor per sender with an executable head; priority and seq copied so the heap compares without chasing pointers. */
interface Cursor {
  entries: Entry[];
  i: number;
  e: Entry;
  p: bigint;
  s: number;
}

/**
 * Executable txs for a block: across senders highest priority first (ties: earlier
 * arrival), each sender's txs in consecutive nonce order from its account nonce. A sender
 * whose next tx does not fit the remaining bytes stops there (later nonces cannot jump
 * it), others continue.
 *
 * The order depends only on (priority, seq), a total order since seq is unique in a pool:
 * the heap's pops do not depend on the order `chains` yields its senders in.
 */
export function selectExecutable(chains: Iterable<SenderChain>, limits: SelectLimits, accountNonce: (from: Uint8Array) => number): Tx[] {
  const out: Tx[] = [];
  if (limits.maxTxs <= 0 || limits.maxBytes <= 0) return out;
  const heads: Cursor[] = [];
  for (const chain of chains) {
    const i = chain.indexOf(accountNonce(chain.from));
    if (i >= 0) {
      const e = chain.entries[i]!;
      heads.push({ entries: chain.entries, i, e, p: e.priority, s: e.seq });
    }
  }
  // Same order as ranksBefore (entry.ts); seq is unique, so the hash tie-break is never reached.
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
