import { compareBytes, concatBytes, readU64be } from '../core/bytes.ts';
import type { FlexPage, FlexPageQuery, ListedFlexActivation, ListedFlexBid, ListedFlexInterval } from '../core/flex-query.ts';
import { decodeFlexActivation, decodeFlexBid, decodeFlexIntervalResult } from '../core/flex.ts';
import type { LoadableReader } from './energy-lists.ts';
import { activationsByBidPrefix, bidsByAggregatorPrefix, flexActivationKey, flexBidKey, flexIntervalsPrefix } from './flex.ts';

/**
 * Bounded pages of flexibility's records for RPC: an aggregator's bids (by id), a bid's
 * activations (by window), an activation's settled intervals (by interval). Each page is
 * loaded before it is listed (the cursor's entry, `limit` entries and one more, then the
 * records they name), like state/market-lists.ts. A cursor is the last listed key's tail
 * after its group's prefix.
 */

interface Entry {
  readonly key: Uint8Array;
  readonly suffix: Uint8Array;
}

async function loadPage(view: LoadableReader, prefix: Uint8Array, q: FlexPageQuery): Promise<{ entries: Entry[]; next: Uint8Array | undefined }> {
  const from = q.after === undefined ? undefined : concatBytes(prefix, q.after);
  await view.load({ ranges: [from === undefined ? { prefix, limit: q.limit + 2 } : { prefix, from, limit: q.limit + 2 }] });
  const entries: Entry[] = [];
  for (const [key] of view.iterate(prefix, from)) {
    const suffix = key.subarray(prefix.length);
    if (q.after !== undefined && compareBytes(suffix, q.after) <= 0) continue;
    if (entries.length === q.limit) return { entries, next: entries[entries.length - 1]!.suffix };
    entries.push({ key, suffix });
  }
  return { entries, next: undefined };
}

function required(view: LoadableReader, key: Uint8Array, what: string): Uint8Array {
  const raw = view.get(key);
  // An index entry without its record is corrupt state: say so rather than skip it.
  if (raw === undefined) throw new Error(`state/flex-lists: an index entry without its ${what} (${Buffer.from(key).toString('hex')})`);
  return raw;
}

/** An aggregator's bids, by id. */
export async function loadAndListFlexBids(view: LoadableReader, aggregator: Uint8Array, q: FlexPageQuery): Promise<FlexPage<ListedFlexBid>> {
  const p = await loadPage(view, bidsByAggregatorPrefix(aggregator), q);
  const keys = p.entries.map((e) => flexBidKey(e.suffix));
  await view.load({ keys });
  return { items: p.entries.map((e, i) => ({ id: e.suffix, bid: decodeFlexBid(required(view, keys[i]!, 'bid')), key: keys[i]! })), next: p.next };
}

/** A bid's activations, by window start. */
export async function loadAndListFlexActivations(view: LoadableReader, bidId: Uint8Array, q: FlexPageQuery): Promise<FlexPage<ListedFlexActivation>> {
  const p = await loadPage(view, activationsByBidPrefix(bidId), q);
  const ids = p.entries.map((e) => e.suffix.subarray(8));
  const keys = ids.map(flexActivationKey);
  await view.load({ keys });
  return { items: ids.map((id, i) => ({ id, activation: decodeFlexActivation(required(view, keys[i]!, 'activation')), key: keys[i]! })), next: p.next };
}

/** An activation's settled intervals, in order. */
export async function loadAndListFlexIntervals(view: LoadableReader, activationId: Uint8Array, q: FlexPageQuery): Promise<FlexPage<ListedFlexInterval>> {
  const p = await loadPage(view, flexIntervalsPrefix(activationId), q);
  return {
    items: p.entries.map((e) => ({ intervalStartMs: readU64be(e.suffix, 0), result: decodeFlexIntervalResult(view.get(e.key)!), key: e.key })),
    next: p.next,
  };
}
