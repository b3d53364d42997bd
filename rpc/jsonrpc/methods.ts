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
import { addDeviceMethods } from './device-methods.ts';
import { addTelemetryMethods } from './telemetry-methods.ts';
import { addEnergyMethods } from './energy-methods.ts';
import { addMarketMethods } from './market-methods.ts';
import { addFlexMethods } from './flex-methods.ts';
import { addReversalMethods } from './reversal-methods.ts';
import { addCommandMethods } from './command-methods.ts';
import { addAgreementMethods } from './agreement-methods.ts';
import type { MethodHandler, RequestCost } from './jsonrpc.ts';
import type { NodeApi, StoredBlock } from '../node-api.ts';
import { decodeTx } from '../../core/tx.ts';
import { checkpoint } from '../cancel.ts';

// ---------------- methods ----------------

/** Transactions formatted between two looks at the client (and turns of the event loop). */
const TXS_PER_CHECKPOINT = 64;

/**
 * A block's txs as full Transaction objects, built from the block already decoded and its
 * receipts read in one go: the cost is the answer's. Stops (REQUEST_CANCELLED) once the
 * client is gone.
 */
async function fullTransactions(api: NodeApi, sb: StoredBlock, signal: AbortSignal | undefined): Promise<TransactionJson[]> {
  const { txs, header } = sb.block;
  const receipts = await api.getBlockReceipts(header.height, signal);
  // Committed blocks always have one receipt per tx; anything else is an inconsistent store.
  if (receipts === undefined || receipts.length !== txs.length) {
    throw new Error(`block ${header.height} has ${receipts?.length ?? 'no'} receipts for ${txs.length} txs`);
  }
  const out: TransactionJson[] = [];
  for (let index = 0; index < txs.length; index++) {
    if (index > 0 && index % TXS_PER_CHECKPOINT === 0) await checkpoint(signal);
    const tx = decodeTx(txs[index]!, Number.MAX_SAFE_INTEGER); // committed: no size limit of today applies
    out.push(formatTransaction({ tx, height: header.height, index, blockHash: sb.hash, receipt: receipts[index]! }, (t) => api.describeTx(t)));
  }
  return out;
}

export async function blockToJson(api: NodeApi, sb: StoredBlock, full: boolean, signal?: AbortSignal): Promise<BlockJson> {
  const txs = full ? await fullTransactions(api, sb, signal) : sb.block.txs.map((b) => hex(sha256(b)));
  return formatBlock(sb, txs);
}

/**
 * A block with its full txs: up to 10,000 decoded txs with receipts (megabytes of JSON),
 * where every other method answers one bounded object or page. A batch of the default
 * cost limit (100) holds at most 10 of them, and runs them one at a time.
 */
export const FULL_BLOCK_COST = 10;

/** What each request costs a batch (jsonrpc.ts `RequestCost`); a page of up to 1,000 readings costs what a full block does. */
export const requestCost: RequestCost = (method, params) =>
  (method === 'joule_getBlock' && params[1] === true) || method === 'joule_getReadings' ? FULL_BLOCK_COST : 1;

/**
 * The requests whose work grows with the chain, which run in their turn (rpc/work-limiter.ts):
 * a block (read whole, its txs hashed or formatted), a tx (read out of its whole block), a
 * page of readings, the validator set at a past height (read from that height's block).
 */
export function costlyRequest(method: string, params: readonly unknown[]): boolean {
  return COSTLY_METHODS.has(method) || (method === 'joule_getValidators' && params[0] !== undefined && params[0] !== null && params[0] !== 'latest');
}
const COSTLY_METHODS = new Set(['joule_getBlock', 'joule_getTransaction', 'joule_getReadings']);

/** The methods that work over every transport (the WebSocket server adds subscribe/unsubscribe). */
export function createMethods(api: NodeApi): Map<string, MethodHandler> {
  const m = new Map<string, MethodHandler>();

  m.set('joule_status', (p) => {
    arity(p, 0, 0);
    return formatStatus(api.status());
  });

  m.set('joule_getBlock', async (p, ctx) => {
    arity(p, 1, 2);
    const which = p[0];
    const full = p[1] ?? false;
    if (typeof full !== 'boolean') throw invalid('params[1]', `fullTransactions must be a boolean, got ${typeName(full)}`);
    const { signal } = ctx;
    let sb: StoredBlock | undefined;
    if (which === 'latest') {
      sb = await api.getBlockByHeight(api.status().height, signal);
    } else if (typeof which === 'string' && which.startsWith('0x')) {
      sb = await api.getBlockByHash(parseHexParam(which, 'params[0]', HASH_LENGTH), signal);
    } else if (typeof which === 'number' || typeof which === 'string') {
      sb = await api.getBlockByHeight(parseHeightParam(which, 'params[0]'), signal);
    } else {
      throw invalid('params[0]', `must be a height, "latest" or a 0x block hash, got ${typeName(which)}`);
    }
    return sb === undefined ? null : blockToJson(api, sb, full, signal);
  });

  m.set('joule_getTransaction', async (p, ctx) => {
    arity(p, 1, 1);
    const lookup = await api.getTransaction(parseHexParam(p[0], 'params[0]', HASH_LENGTH), ctx.signal);
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

  m.set('joule_getProof', async (p, ctx) => {
    arity(p, 1, 2);
    const key = parseStateKeyParam(p[0], 'params[0]');
    const h = p[1];
    const height = h === undefined || h === null || h === 'latest' ? undefined : parseHeightParam(h, 'params[1]');
    return formatProof(key, await api.getProof(key, height, ctx.signal));
  });

  addConsensusMethods(m, api);
  addDeviceMethods(m, api);
  addTelemetryMethods(m, api);
  addEnergyMethods(m, api);
  addMarketMethods(m, api);
  addCommandMethods(m, api);
  addAgreementMethods(m, api);
  addFlexMethods(m, api);
  addReversalMethods(m, api);
  return m;
}
