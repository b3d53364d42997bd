import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { CertificateFilter } from '../../core/energy.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { HASH_LENGTH } from '../../core/hash.ts';
import { isDeviceId, isZone } from '../../core/device.ts';
import { ADDRESS_LENGTH, parseAddress } from '../../core/keys.ts';
import type { NodeApi, RpcLogger, StoredBlock } from '../node-api.ts';
import { accountMessage, blockMessage, certificateRecordMessage, deviceMessage, transactionMessage, utxoMessage } from './joule-messages.ts';
import { toServiceError } from './status.ts';
import { WorkLimiter } from '../work-limiter.ts';
import { cancelled } from '../cancel.ts';

/** Most entries one list call returns (and the default). */
export const MAX_QUERY_PAGE = 100;
/** The longest state key a proof is asked for. */
const MAX_STATE_KEY = 512;

const invalid = (field: string, why: string) => new JouleError(ErrorCode.INVALID_PARAMS, why, field);
const notFound = (what: string) => new JouleError(ErrorCode.NOT_FOUND, `no such ${what}`);

function need<T>(member: T | undefined, what: string): T {
  if (member === undefined) throw new JouleError(ErrorCode.UNAVAILABLE, `this node does not serve ${what}`);
  return member;
}

function bytes(v: unknown, field: string, length?: number, max = 1024): Buffer {
  if (!Buffer.isBuffer(v) || v.length === 0) throw invalid(field, 'must not be empty');
  if (length !== undefined && v.length !== length) throw invalid(field, `must be ${length} bytes, got ${v.length}`);
  if (v.length > max) throw invalid(field, `must be at most ${max} bytes`);
  return v;
}

function optionalBytes(v: unknown, field: string, length?: number): Buffer | undefined {
  return Buffer.isBuffer(v) && v.length > 0 ? bytes(v, field, length) : undefined;
}

/** A uint64 field (a decimal string) as a safe integer. */
function uint(v: unknown, field: string): number {
  const n = Number(v ?? 0);
  if (!Number.isSafeInteger(n) || n < 0) throw invalid(field, 'must be a non-negative safe integer');
  return n;
}

function limit(v: unknown): number {
  const n = uint(v, 'limit');
  if (n > MAX_QUERY_PAGE) throw invalid('limit', `must be 1..${MAX_QUERY_PAGE} (0: ${MAX_QUERY_PAGE})`);
  return n === 0 ? MAX_QUERY_PAGE : n;
}

type Request = Record<string, unknown>;
type Handler = (req: Request, signal: AbortSignal) => Promise<unknown>;

/** A unary handler: bad input and domain errors as their status, anything else INTERNAL; the signal aborts when the client cancels. */
function unary(handler: Handler, logger?: RpcLogger) {
  return (call: ServerUnaryCall<Request, unknown>, callback: sendUnaryData<unknown>): void => {
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort());
    Promise.resolve()
      .then(() => handler(call.request ?? {}, abort.signal))
      .then(
        (answer) => callback(null, answer),
        (e: unknown) => callback(toServiceError(e, logger)),
      );
  };
}

/** The calls whose work grows with the chain (a block read whole and its txs hashed; a tx read out of its whole block), which run in their turn. */
const COSTLY_CALLS = new Set(['GetBlock', 'GetTransaction']);

/** joule.v1.QueryService over NodeApi: reads of finalized blocks and txs, the latest state, and proofs. */
export function queryService(api: NodeApi, logger?: RpcLogger, costly = new WorkLimiter()): UntypedServiceImplementation {
  const handlers: Record<string, Handler> = {
    async GetBlock(req, signal) {
      let sb: StoredBlock | undefined;
      if (req.which === 'hash') sb = await api.getBlockByHash(bytes(req.hash, 'hash', HASH_LENGTH), signal);
      else if (req.which === 'height') sb = await api.getBlockByHeight(uint(req.height, 'height'), signal);
      else if (req.which === 'latest' && req.latest === true) sb = await api.getBlockByHeight(api.status().height, signal);
      else throw invalid('which', 'give height, hash or latest');
      if (sb === undefined) throw notFound('block');
      return blockMessage(sb);
    },
    async GetTransaction(req, signal) {
      const t = await api.getTransaction(bytes(req.hash, 'hash', HASH_LENGTH), signal);
      if (t === undefined) throw notFound('transaction in a finalized block');
      return transactionMessage(t, (tx) => api.describeTx(tx));
    },
    async GetAccount(req) {
      if (typeof req.address !== 'string' || req.address === '') throw invalid('address', 'must be a bech32 address');
      let address: Uint8Array;
      try {
        address = parseAddress(req.address, 'address');
      } catch (e) {
        throw invalid('address', e instanceof Error ? e.message : 'must be a bech32 address');
      }
      return accountMessage(address, api.getAccount(address));
    },
    async GetDevice(req) {
      if (!isDeviceId(req.id)) throw invalid('id', 'must be a device id (1-64 of letters, digits, ".", "_", ":", "-")');
      const d = await need(api.getDevice, 'devices').call(api, req.id);
      if (d === undefined) throw notFound('device');
      return deviceMessage(d);
    },
    async GetEnergyUtxo(req) {
      const u = await need(api.getEnergyUtxo, 'energy UTXOs').call(api, bytes(req.id, 'id', HASH_LENGTH));
      if (u === undefined) throw notFound('unspent energy UTXO');
      return utxoMessage(u);
    },
    async ListEnergyUtxos(req) {
      const owner = optionalBytes(req.owner, 'owner', ADDRESS_LENGTH);
      const after = optionalBytes(req.cursor, 'cursor', HASH_LENGTH);
      const page = await need(api.listEnergyUtxos, 'energy UTXOs').call(api, {
        limit: limit(req.limit),
        ...(owner === undefined ? {} : { owner }),
        ...(after === undefined ? {} : { after }),
      });
      return { utxos: page.utxos.map(utxoMessage), next_cursor: Buffer.from(page.next ?? new Uint8Array(0)) };
    },
    async GetCertificate(req) {
      const c = await need(api.getCertificate, 'certificates').call(api, bytes(req.id, 'id', HASH_LENGTH));
      if (c === undefined) throw notFound('certificate');
      return certificateRecordMessage(c);
    },
    async ListCertificates(req) {
      let filter: CertificateFilter = { by: 'all' };
      if (req.filter === 'beneficiary') filter = { by: 'beneficiary', beneficiary: bytes(req.beneficiary, 'beneficiary', ADDRESS_LENGTH) };
      else if (req.filter === 'device_id') {
        if (!isDeviceId(req.device_id)) throw invalid('device_id', 'must be a device id');
        filter = { by: 'device', deviceId: req.device_id };
      } else if (req.filter === 'zone') {
        if (!isZone(req.zone)) throw invalid('zone', 'must be a zone (1-32 of letters, digits, ".", "_", ":", "-")');
        filter = { by: 'zone', zone: req.zone };
      }
      const after = optionalBytes(req.cursor, 'cursor');
      const page = await need(api.listCertificates, 'certificates').call(api, { filter, limit: limit(req.limit), ...(after === undefined ? {} : { after }) });
      return {
        certificates: page.certificates.map((c) => certificateRecordMessage(c.certificate, c.indexKey)),
        next_cursor: Buffer.from(page.next ?? new Uint8Array(0)),
      };
    },
    async GetProof(req, signal) {
      const key = bytes(req.key, 'key', undefined, MAX_STATE_KEY);
      const h = uint(req.height, 'height');
      const p = await api.getProof(key, h === 0 ? undefined : h, signal);
      return {
        height: String(p.height),
        state_root: Buffer.from(p.stateRoot),
        present: p.value !== undefined,
        value: Buffer.from(p.value ?? new Uint8Array(0)),
        proof: Buffer.from(p.proof),
      };
    },
  };
  const inTurn =
    (h: Handler): Handler =>
    (req, signal) =>
      costly.run(() => h(req, signal), signal, cancelled);
  return Object.fromEntries(Object.entries(handlers).map(([name, h]) => [name, unary(COSTLY_CALLS.has(name) ? inTurn(h) : h, logger)]));
}
