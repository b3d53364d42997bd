import { MAX_FLEX_PAGE, type FlexActivationListJson, type FlexBidListJson, type FlexIntervalListJson } from '../../core/flex-query.ts';
import { formatFlexActivation, formatFlexBid, formatFlexInterval } from './flex-format.ts';
import { hex } from './json-format.ts';
import type { MethodHandler } from './jsonrpc.ts';
import { arity, need, pageParams, parseAddressParam, parseHexParam, queryObject } from './params.ts';
import type { NodeApi } from '../node-api.ts';

/** A cursor is an index key's tail: at most a window start and an activation id. */
const MAX_CURSOR_BYTES = 40;

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
    const page = await need(api.listFlexBids, 'flexibility bids').call(api, aggregator, pageParams(o, MAX_FLEX_PAGE, MAX_CURSOR_BYTES));
    return { bids: page.items.map((b) => formatFlexBid(b.id, b.bid)), nextCursor: next(page.next) };
  });

  m.set('joule_listFlexActivations', async (p): Promise<FlexActivationListJson> => {
    arity(p, 1, 1);
    const o = queryObject(p[0], '{bidId, limit?, cursor?}', ['bidId', 'limit', 'cursor']);
    const bidId = idParam(o.bidId, 'params[0].bidId');
    const page = await need(api.listFlexActivations, 'flexibility activations').call(api, bidId, pageParams(o, MAX_FLEX_PAGE, MAX_CURSOR_BYTES));
    return { activations: page.items.map((a) => formatFlexActivation(a.id, a.activation)), nextCursor: next(page.next) };
  });

  m.set('joule_listFlexIntervals', async (p): Promise<FlexIntervalListJson> => {
    arity(p, 1, 1);
    const o = queryObject(p[0], '{activationId, limit?, cursor?}', ['activationId', 'limit', 'cursor']);
    const activationId = idParam(o.activationId, 'params[0].activationId');
    const page = await need(api.listFlexIntervals, 'flexibility intervals').call(api, activationId, pageParams(o, MAX_FLEX_PAGE, MAX_CURSOR_BYTES));
    return { intervals: page.items.map((i) => formatFlexInterval(activationId, i.intervalStartMs, i.result)), nextCursor: next(page.next) };
  });
}
