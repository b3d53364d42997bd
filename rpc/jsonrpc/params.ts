/**
 * Param validation shared by every JSON-RPC method: each bad param is a JouleError
 * INVALID_PARAMS naming it (`params[0]`), which the dispatcher answers with -32602.
 */
import { fromHexOrUndefined } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { ADDRESS_HRP, parseAddress } from '../../core/keys.ts';
import { accountKey } from '../../core/state-keys.ts';

/** Longest state key joule_getProof accepts; real keys are a prefix byte plus a short id. */
const MAX_STATE_KEY_BYTES = 256;

export function invalid(field: string, message: string): JouleError {
  return new JouleError(ErrorCode.INVALID_PARAMS, message, field);
}

export function arity(params: unknown[], min: number, max: number): void {
  if (params.length < min) throw invalid(`params[${params.length}]`, `missing; expected ${min === max ? min : `${min} to ${max}`} params`);
  if (params.length > max) throw invalid(`params[${max}]`, `unexpected; expected at most ${max} params`);
}

/** Bytes from 0x hex (whole bytes); `length` pins the exact size. */
export function parseHexParam(v: unknown, field: string, length?: number, maxLength?: number): Uint8Array {
  if (typeof v !== 'string') throw invalid(field, `must be a 0x hex string, got ${typeName(v)}`);
  const b = fromHexOrUndefined(v);
  if (b === undefined) throw invalid(field, 'must be 0x-prefixed hex of whole bytes');
  if (length !== undefined && b.length !== length) throw invalid(field, `must be ${length} bytes, got ${b.length}`);
  if (maxLength !== undefined && b.length > maxLength) throw invalid(field, `must be at most ${maxLength} bytes`);
  return b;
}

/** A non-negative safe integer; also a decimal string of digits, as typed on a command line. */
export function parseHeightParam(v: unknown, field: string): number {
  const n = typeof v === 'string' && /^[0-9]{1,16}$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw invalid(field, `must be a non-negative integer height, got ${typeName(v)}`);
  }
  return n;
}

export function parseAddressParam(v: unknown, field: string): Uint8Array {
  if (typeof v !== 'string') throw invalid(field, `must be a bech32 address string, got ${typeName(v)}`);
  try {
    return parseAddress(v, field);
  } catch (e) {
    throw invalid(field, (e as Error).message.replace(`${field}: `, ''));
  }
}

/** A state key as 0x hex, or a bech32 address meaning that account's key (prefix 0x01 + address). */
export function parseStateKeyParam(v: unknown, field: string): Uint8Array {
  if (typeof v === 'string' && v.toLowerCase().startsWith(ADDRESS_HRP + '1')) {
    return accountKey(parseAddressParam(v, field));
  }
  const key = parseHexParam(v, field, undefined, MAX_STATE_KEY_BYTES);
  if (key.length === 0) throw invalid(field, 'must not be empty');
  return key;
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** A NodeApi member a method needs; a node without it answers UNAVAILABLE naming what it does not serve. */
export function need<T>(member: T | undefined, what: string): T {
  if (member === undefined) throw new JouleError(ErrorCode.UNAVAILABLE, `this node does not serve ${what}`);
  return member;
}

/** params[0] as an object of only the named fields (`shape` describes it in the error). */
export function queryObject(v: unknown, shape: string, fields: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid('params[0]', `must be an object ${shape}, got ${typeName(v)}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!fields.includes(k)) throw invalid(`params[0].${k}`, 'unknown field');
  return o;
}

/** A page query's `limit` (1..maxPage, default maxPage) and hex `cursor` (at most maxCursorBytes). */
export function pageParams(o: Record<string, unknown>, maxPage: number, maxCursorBytes: number): { limit: number; after?: Uint8Array } {
  const limit = o.limit ?? maxPage;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > maxPage)
    throw invalid('params[0].limit', `must be an integer 1..${maxPage}`);
  const cursor = o.cursor ?? undefined;
  return cursor === undefined ? { limit } : { limit, after: parseHexParam(cursor, 'params[0].cursor', undefined, maxCursorBytes) };
}
