import { status, type sendUnaryData, type ServerReadableStream, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { isJouleError } from '../../core/errors.ts';
import type { NodeApi, RpcLogger } from '../node-api.ts';
import { serviceError, toServiceError } from './status.ts';

/** Bounds of the bulk stream. */
export interface TxStreamLimits {
  /** Txs one SubmitTransactions stream may send; beyond, RESOURCE_EXHAUSTED. */
  readonly maxTxsPerStream: number;
  /** Txs of one stream being admitted at once; the stream is paused (HTTP/2 flow control) beyond. */
  readonly maxInFlight: number;
}

export const TX_STREAM_LIMITS: TxStreamLimits = { maxTxsPerStream: 10_000, maxInFlight: 64 };
/** Rejections listed in a bulk answer (all are counted). */
const MAX_LISTED_REJECTIONS = 1000;

interface TxRequest {
  tx?: Buffer;
}

const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

function txOf(req: TxRequest | undefined): Buffer | undefined {
  return req?.tx !== undefined && req.tx.length > 0 ? req.tx : undefined;
}

/** joule.v1.TransactionService over NodeApi.submitTransaction (the node's one door into the mempool). */
export function transactionService(api: NodeApi, limits: TxStreamLimits, logger?: RpcLogger): UntypedServiceImplementation {
  return {
    SubmitTransaction(call: ServerUnaryCall<TxRequest, unknown>, callback: sendUnaryData<unknown>): void {
      const tx = txOf(call.request);
      if (tx === undefined)
        return callback(serviceError(status.INVALID_ARGUMENT, 'INVALID_PARAMS: tx: must not be empty', { code: 'INVALID_PARAMS', field: 'tx' }));
      api.submitTransaction(tx).then(
        ({ hash }) => callback(null, { hash: buf(hash) }),
        (e: unknown) => callback(toServiceError(e, logger)),
      );
    },

    SubmitTransactions(call: ServerReadableStream<TxRequest, unknown>, callback: sendUnaryData<unknown>): void {
      let received = 0;
      let inFlight = 0;
      let ended = false;
      let done = false;
      const hashes: (Buffer | undefined)[] = [];
      const rejected: { index: number; code: string; message: string; field: string }[] = [];
      const finish = (err?: ReturnType<typeof serviceError>) => {
        if (done) return;
        done = true;
        if (err !== undefined) return callback(err);
        const accepted = hashes.filter((h): h is Buffer => h !== undefined);
        callback(null, { received, accepted: accepted.length, hashes: accepted, rejected });
      };
      const reject = (index: number, code: string, message: string, field = '') => {
        if (rejected.length < MAX_LISTED_REJECTIONS) rejected.push({ index, code, message, field });
      };
      const settle = () => {
        inFlight--;
        if (call.isPaused() && inFlight < limits.maxInFlight) call.resume();
        if (ended && inFlight === 0) finish();
      };
      call.on('data', (req: TxRequest) => {
        if (done) return;
        const index = received++;
        if (received > limits.maxTxsPerStream) {
          finish(serviceError(status.RESOURCE_EXHAUSTED, `RATE_LIMITED: at most ${limits.maxTxsPerStream} transactions per stream`, { code: 'RATE_LIMITED' }));
          return;
        }
        const tx = txOf(req);
        if (tx === undefined) return reject(index, 'INVALID_PARAMS', 'tx: must not be empty', 'tx');
        inFlight++;
        if (inFlight >= limits.maxInFlight) call.pause();
        api.submitTransaction(tx).then(
          ({ hash }) => {
            hashes[index] = buf(hash);
            settle();
          },
          (e: unknown) => {
            if (isJouleError(e)) reject(index, e.code, e.message, e.field ?? '');
            else {
              logger?.error({ err: e }, 'grpc bulk submission failed');
              reject(index, 'INTERNAL', 'internal error');
            }
            settle();
          },
        );
      });
      call.on('end', () => {
        ended = true;
        if (inFlight === 0) finish();
      });
      // A client that went away: nothing to answer; admissions already started complete on their own.
      call.on('error', () => {
        done = true;
      });
    },
  };
}
