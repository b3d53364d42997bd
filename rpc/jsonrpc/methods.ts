/**
 * The JSON-RPC method table over NodeApi, with strict param validation: every bad param is
 * a JouleError INVALID_PARAMS naming it (`params[0]`), which the dispatcher answers with
 * -32602. Domain errors from the node (JouleError) pass through as -32000.
 */
import { HASH_LENGTH, sha256 } from '../../core/hash.ts';
import { arity, invalid, parseAddressParam, parseHeightParam, parseHexParam, parseStateKeyParam, typeName } from './params.ts';
import { formatAccount, formatBlock, formatProof, formatStatus, formatTransaction, hex } from './json-format.ts';
import type { BlockJson, TransactionJson } from '../../core/rpc-json.ts';
import { addConsensusMethods } from './consensus-methods.ts';
import type { MethodHandler } from './jsonrpc.ts';
import type { NodeApi, StoredBlock } from '../node-api.ts';

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

