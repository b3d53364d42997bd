/**
 * JSON-RPC reads of governed reversals: joule_getReversal (by id), joule_getSettlementReversal
 * (the reversal of one trade's settlement), joule_getGovernors (who approves, and k). Every
 * record comes with its state key, which joule_getProof proves. Reversals are proposed and
 * approved as signed txs (types 46, 47) through joule_sendRawTransaction. They read optional
 * NodeApi members; a node without one answers UNAVAILABLE (-32000).
 */
import { isZone } from '../../core/device.ts';
import { formatAddress } from '../../core/keys.ts';
import { reversalStatus, reversalUtxoId, type ReversalView } from '../../core/reversal.ts';
import type { GovernorsJson, ReversalJson } from '../../core/reversal-json.ts';
import { hex } from './json-format.ts';
import type { MethodHandler } from './jsonrpc.ts';
import { formatSettlement } from './market-format.ts';
import { arity, invalid, need, parseHeightParam, typeName } from './params.ts';
import type { NodeApi } from '../node-api.ts';

export function formatReversal(v: ReversalView): ReversalJson {
  const r = v.reversal;
  const executed = reversalStatus(r) === 'executed';
  return {
    id: r.id,
    zone: r.zone,
    intervalStartMs: r.intervalStartMs,
    seq: r.seq,
    buyer: formatAddress(r.buyer),
    seller: formatAddress(r.seller),
    reason: r.reason,
    status: reversalStatus(r),
    approvers: r.approvers.map(formatAddress),
    threshold: v.threshold ?? null,
    proposedHeight: r.proposedHeight,
    executedHeight: r.executedHeight ?? null,
    settlement: v.settlement === undefined ? null : formatSettlement(v.settlement),
    returnedUtxo: executed && v.settlement?.utxoId !== undefined ? hex(reversalUtxoId(r)) : null,
    stateKey: hex(v.key),
    idKey: hex(v.idKey),
    settlementKey: hex(v.settlementKey),
  };
}

function settlementParam(v: unknown): { zone: string; intervalStartMs: number; seq: number } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid('params[0]', `must be an object {zone, intervalStartMs, seq}, got ${typeName(v)}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['zone', 'intervalStartMs', 'seq'].includes(k)) throw invalid(`params[0].${k}`, 'unknown field');
  if (!isZone(o.zone)) throw invalid('params[0].zone', 'must be a zone (1-32 of letters, digits, ".", "_", ":", "-")');
  const intervalStartMs = parseHeightParam(o.intervalStartMs, 'params[0].intervalStartMs');
  const seq = parseHeightParam(o.seq, 'params[0].seq');
  if (seq > 0xffff_ffff) throw invalid('params[0].seq', 'must be at most 4294967295');
  return { zone: o.zone, intervalStartMs, seq };
}

export function addReversalMethods(m: Map<string, MethodHandler>, api: NodeApi): void {
  m.set('joule_getReversal', async (p) => {
    arity(p, 1, 1);
    const get = need(api.getReversal, 'reversals').bind(api);
    const id = parseHeightParam(p[0], 'params[0]');
    if (id < 1) throw invalid('params[0]', 'must be a reversal id (1, 2, ...)');
    const v = await get(id);
    return v === undefined ? null : formatReversal(v);
  });

  m.set('joule_getSettlementReversal', async (p) => {
    arity(p, 1, 1);
    const get = need(api.getReversal, 'reversals').bind(api);
    const v = await get(settlementParam(p[0]));
    return v === undefined ? null : formatReversal(v);
  });

  m.set('joule_getGovernors', async (p): Promise<GovernorsJson | null> => {
    arity(p, 0, 0);
    const get = need(api.getGovernors, 'governors').bind(api);
    const g = await get();
    return g === undefined ? null : { threshold: g.threshold, governors: g.governors.map(formatAddress), stateKey: hex(g.key) };
  });
}
