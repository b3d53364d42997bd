/**
 * JSON-RPC methods of bilateral agreements: joule_getAgreement (one agreement: its phase,
 * terms, collateral, margin calls, dispute, and a bounded run of its slot settlements) and
 * joule_getAccountAgreements (an account's agreements as buyer or seller, a bounded page
 * with a cursor). Every record comes with its state key, which joule_getProof proves. The
 * agreements change by signed txs (types 34-39) through joule_sendRawTransaction. They read
 * optional NodeApi members; a node without one answers UNAVAILABLE (-32000).
 */
import { AGREEMENT_ID_LENGTH } from '../../core/tx/agreement-actions.ts';
import type { AgreementDetailJson, AgreementListJson } from '../../core/agreement-json.ts';
import { MAX_AGREEMENT_PAGE } from '../../core/agreement-query.ts';
import { formatAgreementDetail, formatListedAgreement } from './agreement-format.ts';
import { hex } from './json-format.ts';
import type { MethodHandler } from './jsonrpc.ts';
import { arity, invalid, need, parseAddressParam, parseHexParam, typeName } from './params.ts';
import type { NodeApi } from '../node-api.ts';

function options(v: unknown, field: string, shape: string, fields: readonly string[]): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(field, `must be an object ${shape}, got ${typeName(v)}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!fields.includes(k)) throw invalid(`${field}.${k}`, 'unknown field');
  return o;
}

function intField(v: unknown, field: string, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw invalid(field, `must be an integer ${min}..${max}, got ${typeName(v)}`);
  return v;
}

/** A slot number is below MAX_AGREEMENT_SLOTS; any u32 is accepted and simply lists nothing beyond the schedule. */
const MAX_SLOT = 0xffff_ffff;

export function addAgreementMethods(m: Map<string, MethodHandler>, api: NodeApi): void {
  m.set('joule_getAgreement', async (p): Promise<AgreementDetailJson | null> => {
    arity(p, 1, 2);
    const get = need(api.getAgreement, 'agreements').bind(api);
    const id = parseHexParam(p[0], 'params[0]', AGREEMENT_ID_LENGTH);
    const o = options(p[1], 'params[1]', '{fromSlot?, limit?}', ['fromSlot', 'limit']);
    const fromSlot = intField(o.fromSlot, 'params[1].fromSlot', 0, MAX_SLOT, 0);
    const limit = intField(o.limit, 'params[1].limit', 1, MAX_AGREEMENT_PAGE, MAX_AGREEMENT_PAGE);
    const d = await get({ id, fromSlot, limit });
    return d === undefined ? null : formatAgreementDetail(d);
  });

  m.set('joule_getAccountAgreements', async (p): Promise<AgreementListJson> => {
    arity(p, 1, 1);
    const list = need(api.listAccountAgreements, 'account agreements').bind(api);
    if (p[0] === undefined || p[0] === null) throw invalid('params[0]', 'must be an object {account, limit?, cursor?}, got null');
    const o = options(p[0], 'params[0]', '{account, limit?, cursor?}', ['account', 'limit', 'cursor']);
    const account = parseAddressParam(o.account, 'params[0].account');
    const limit = intField(o.limit, 'params[0].limit', 1, MAX_AGREEMENT_PAGE, MAX_AGREEMENT_PAGE);
    const cursor = o.cursor ?? undefined;
    const after = cursor === undefined ? undefined : parseHexParam(cursor, 'params[0].cursor', AGREEMENT_ID_LENGTH);
    const page = await list(after === undefined ? { account, limit } : { account, limit, after });
    return {
      agreements: page.agreements.map((a) => formatListedAgreement(a, page.settlementIntervalMs)),
      nextCursor: page.next === undefined ? null : hex(page.next),
    };
  });
}
