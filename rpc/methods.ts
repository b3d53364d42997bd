/**
 * The JSON-RPC method table over NodeApi, with strict param validation: every bad param is
 * a JouleError INVALID_PARAMS naming it (`params[0]`), which the dispatcher answers with
 * -32602. Domain errors from the node (JouleError) pass through as -32000.
 */
import { ErrorCode, JouleError } from '../core/errors.ts';
import { fromHexOrUndefined } from '../core/bytes.ts';
import { HASH_LENGTH, sha256 } from '../core/hash.ts';
import { ADDRESS_HRP, parseAddress } from '../core/keys.ts';
import {
  formatAccount,
  formatBlock,
  formatProof,
  formatStatus,
  formatTransaction,
  hex,
  type BlockJson,
  type TransactionJson,
} from './json-format.ts';
import { addConsensusMethods } from './consensus-methods.ts';
import type { MethodHandler } from './jsonrpc.ts';
import type { NodeApi, StoredBlock } from './node-api.ts';

/**
 * Prefix byte of account records in the state key space. Duplicates `StatePrefix.account`
 * in state/keys.ts, which rpc/ may not import; a test in state/ or node/ should keep the
 * two equal.
 */
export const ACCOUNT_KEY_PREFIX = 0x01;

/** Longest state key joule_getProof accepts; real keys are a prefix byte plus a short id. */
const MAX_STATE_KEY_BYTES = 256;

// ---------------- param validation ----------------

function invalid(field: string, message: string): JouleError {
  return new JouleError(ErrorCode.INVALID_PARAMS, message, field);
}

function arity(params: unknown[], min: number, max: number): void {
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
    const address = parseAddressParam(v, field);
    const key = new Uint8Array(1 + address.length);
    key[0] = ACCOUNT_KEY_PREFIX;
    key.set(address, 1);
    return key;
  }
  const key = parseHexParam(v, field, undefined, MAX_STATE_KEY_BYTES);
  if (key.length === 0) throw invalid(field, 'must not be empty');
  return key;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

// ---------------- methods ----------------

/** Resolves a block's txs into full Transaction objects via the tx index (which has the receipts). */
async function fullTransactions(api: NodeApi, sb: StoredBlock): Promise<TransactionJson[]> {
  const out: TransactionJson[] = [];
  for (const bytes of sb.block.txs) {
    const lookup = await api.getTransaction(sha256(bytes));
    if (lookup !== undefined) {
      out.push(formatTransaction(lookup, (t) => api.describeTx(t)));
      continue;
    }
    // Committed blocks always have indexed txs; if one is missing the store is inconsistent.
    throw new Error(`tx ${hex(sha256(bytes))} of block ${sb.block.header.height} is not in the tx index`);
  }
  return out;
}

export async function blockToJson(api: NodeApi, sb: StoredBlock, full: boolean): Promise<BlockJson> {
  const txs = full ? await fullTransactions(api, sb) : sb.block.txs.map((b) => hex(sha256(b)));
  return formatBlock(sb, txs);
}

/** The methods that work over every transport (the WebSocket server adds subscribe/unsubscribe). */
export function createMethods(api: NodeApi): Map<string, MethodHandler> {
  const m = new Map<string, MethodHandler>();

  m.set('joule_status', (p) => {
    arity(p, 0, 0);
    return formatStatus(api.status());
  });

  m.set('joule_getBlock', async (p) => {
    arity(p, 1, 2);
    const which = p[0];
    const full = p[1] ?? false;
    if (typeof full !== 'boolean') throw invalid('params[1]', `fullTransactions must be a boolean, got ${typeName(full)}`);
    let sb: StoredBlock | undefined;
    if (which === 'latest') {
      sb = await api.getBlockByHeight(api.status().height);
    } else if (typeof which === 'string' && which.startsWith('0x')) {
      sb = await api.getBlockByHash(parseHexParam(which, 'params[0]', HASH_LENGTH));
    } else if (typeof which === 'number' || typeof which === 'string') {
      sb = await api.getBlockByHeight(parseHeightParam(which, 'params[0]'));
    } else {
      throw invalid('params[0]', `must be a height, "latest" or a 0x block hash, got ${typeName(which)}`);
    }
    return sb === undefined ? null : blockToJson(api, sb, full);
  });

  m.set('joule_getTransaction', async (p) => {
    arity(p, 1, 1);
    const lookup = await api.getTransaction(parseHexParam(p[0], 'params[0]', HASH_LENGTH));
    return lookup === undefined ? null : formatTransaction(lookup, (t) => api.describeTx(t));
  });

  m.set('joule_getAccount', (p) => {
    arity(p, 1, 1);
    const address = parseAddressParam(p[0], 'params[0]');
    return formatAccount(address, api.getAccount(address));
  });

  m.set('joule_sendRawTransaction', async (p) => {
    arity(p, 1, 1);
    const bytes = parseHexParam(p[0], 'params[0]');
    if (bytes.length === 0) throw invalid('params[0]', 'must not be empty');
    const { hash } = await api.submitTransaction(bytes);
    return { hash: hex(hash) };
  });

  m.set('joule_getProof', async (p) => {
    arity(p, 1, 2);
    const key = parseStateKeyParam(p[0], 'params[0]');
    const h = p[1];
    const height = h === undefined || h === null || h === 'latest' ? undefined : parseHeightParam(h, 'params[1]');
    return formatProof(key, await api.getProof(key, height));
  });

  addConsensusMethods(m, api);
  return m;
}

