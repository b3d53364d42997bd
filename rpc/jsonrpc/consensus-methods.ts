/**
 * JSON-RPC methods of the Consensus issue: the validator set, included evidence and
 * pending validator votes. They read optional NodeApi members; a node without one answers
 * UNAVAILABLE (-32000), so rpc/ works with nodes built before these existed.
 */
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { formatEvidence, formatProposal, formatValidators } from './consensus-format.ts';
import type { MethodHandler } from './jsonrpc.ts';
import { need, parseHeightParam } from './params.ts';
import type { NodeApi } from '../node-api.ts';

/** Most evidence entries one joule_getEvidence call returns. */
export const MAX_EVIDENCE_PAGE = 100;

function invalid(field: string, message: string): JouleError {
  return new JouleError(ErrorCode.INVALID_PARAMS, message, field);
}

function arity(params: unknown[], max: number): void {
  if (params.length > max) throw invalid(`params[${max}]`, `unexpected; expected at most ${max} params`);
}

/** An omitted optional param. "latest" means the current height and is accepted where a height is asked for only. */
const absent = (v: unknown): boolean => v === undefined || v === null;
const absentHeight = (v: unknown): boolean => absent(v) || v === 'latest';

function count(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalid(field, 'must be a non-negative integer');
  return v;
}

export function addConsensusMethods(m: Map<string, MethodHandler>, api: NodeApi): void {
  m.set('joule_getValidators', async (p) => {
    arity(p, 1);
    const get = need(api.getValidators, 'validator sets').bind(api);
    const height = absentHeight(p[0]) ? undefined : parseHeightParam(p[0], 'params[0]');
    const set = await get(height);
    // Omitted height: the current set, which certifies the block after the latest.
    return set === undefined ? null : formatValidators(height ?? api.status().height + 1, set);
  });

  m.set('joule_getEvidence', async (p) => {
    arity(p, 2);
    const list = need(api.listEvidence, 'evidence').bind(api);
    const offset = absent(p[0]) ? 0 : count(p[0], 'params[0]');
    const limit = absent(p[1]) ? MAX_EVIDENCE_PAGE : count(p[1], 'params[1]');
    if (limit < 1 || limit > MAX_EVIDENCE_PAGE) throw invalid('params[1]', `limit must be 1..${MAX_EVIDENCE_PAGE}`);
    const { total, items } = await list(offset, limit);
    return { total, offset, evidence: items.map(formatEvidence) };
  });

  m.set('joule_getValidatorVotes', async (p) => {
    arity(p, 0);
    const list = need(api.listValidatorProposals, 'validator votes').bind(api);
    const current = api.getValidators === undefined ? undefined : await api.getValidators();
    return { proposals: (await list()).map((x) => formatProposal(x, current)) };
  });
}
