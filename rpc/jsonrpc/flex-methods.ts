/**
 * JSON-RPC methods of flexibility: joule_getFlexBid and joule_getFlexActivation (one record
 * by id, or null), joule_listFlexBids (an aggregator's bids), joule_listFlexActivations (a
 * bid's activations) and joule_listFlexIntervals (how an activation's intervals settled).
 * Bounded pages with a cursor; every record comes with its state key, which joule_getProof
 * proves. Bids, activations and confirmations are signed txs (types 42-44) sent through
 * joule_sendRawTransaction. They read optional NodeApi members; a node without one answers
 * UNAVAILABLE (-32000).
 */
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { MAX_FLEX_PAGE, type FlexActivationListJson, type FlexBidListJson, type FlexIntervalListJson, type FlexPageQuery } from '../../core/flex-query.ts';
import { formatFlexActivation, formatFlexBid, formatFlexInterval } from './flex-format.ts';
import { hex } from './json-format.ts';
import type { MethodHandler } from './jsonrpc.ts';
import { arity, invalid, parseAddressParam, parseHexParam, typeName } from './params.ts';
import type { NodeApi } from '../node-api.ts';

/** A cursor is an index key's tail: at most a window start and an activation id. */
const MAX_CURSOR_BYTES = 40;

function need<T>(member: T | undefined, what: string): T {
  if (member === undefined) throw new JouleError(ErrorCode.UNAVAILABLE, `this node does not serve ${what}`);
  return member;
}

function queryObject(v: unknown, shape: string, fields: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid('params[0]', `must be an object ${shape}, got ${typeName(v)}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!fields.includes(k)) throw invalid(`params[0].${k}`, 'unknown field');
  return o;
}

function pageParams(o: Record<string, unknown>): FlexPageQuery {
  const limit = o.limit ?? MAX_FLEX_PAGE;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_FLEX_PAGE)
    throw invalid('params[0].limit', `must be an integer 1..${MAX_FLEX_PAGE}`);
  const cursor = o.cursor ?? undefined;
  return cursor === undefined ? { limit } : { limit, after: parseHexParam(cursor, 'params[0].cursor', undefined, MAX_CURSOR_BYTES) };
}

const idParam = (v: unknown, field: string) => parseHexParam(v, field, 32);
const next = (n: Uint8Array | undefined) => (n === undefined ? null : hex(n));

export function addFlexMethods(m: Map<string, MethodHandler>, api: NodeApi): void {
  m.set('joule_getFlexBid', async (p) => {
    arity(p, 1, 1);
    const id = idParam(p[0], 'params[0]');
    const bid = await need(api.getFlexBid, 'flexibility bids').call(api, id);
    return bid === undefined ? null : formatFlexBid(id, bid);
  });

  m.set('joule_getFlexActivation', async (p) => {
    arity(p, 1, 1);
    const id = idParam(p[0], 'params[0]');
    const a = await need(api.getFlexActivation, 'flexibility activations').call(api, id);
    return a === undefined ? null : formatFlexActivation(id, a);
  });

  m.set('joule_listFlexBids', async (p): Promise<FlexBidListJson> => {
    arity(p, 1, 1);
    const o = queryObject(p[0], '{aggregator, limit?, cursor?}', ['aggregator', 'limit', 'cursor']);
    const aggregator = parseAddressParam(o.aggregator, 'params[0].aggregator');
    const page = await need(api.listFlexBids, 'flexibility bids').call(api, aggregator, pageParams(o));
    return { bids: page.items.map((b) => formatFlexBid(b.id, b.bid)), nextCursor: next(page.next) };
  });

  m.set('joule_listFlexActivations', async (p): Promise<FlexActivationListJson> => {
    arity(p, 1, 1);
    const o = queryObject(p[0], '{bidId, limit?, cursor?}', ['bidId', 'limit', 'cursor']);
    const bidId = idParam(o.bidId, 'params[0].bidId');
    const page = await need(api.listFlexActivations, 'flexibility activations').call(api, bidId, pageParams(o));
    return { activations: page.items.map((a) => formatFlexActivation(a.id, a.activation)), nextCursor: next(page.next) };
  });

  m.set('joule_listFlexIntervals', async (p): Promise<FlexIntervalListJson> => {
    arity(p, 1, 1);
    const o = queryObject(p[0], '{activationId, limit?, cursor?}', ['activationId', 'limit', 'cursor']);
    const activationId = idParam(o.activationId, 'params[0].activationId');
    const page = await need(api.listFlexIntervals, 'flexibility intervals').call(api, activationId, pageParams(o));
    return { intervals: page.items.map((i) => formatFlexInterval(activationId, i.intervalStartMs, i.result)), nextCursor: next(page.next) };
  });
}
