import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ErrorCode, isJouleError } from '../../core/errors.ts';
import type { RpcLogger } from '../node-api.ts';

/**
 * JouleError codes as gRPC status codes, for Joule's own services. (h/ingress keeps the
 * device stream's mapping in rpc/grpc/status.ts; the two are to be merged into that file.)
 * The status details are "CODE: message"; trailing metadata `joule-error-code` and
 * `joule-error-field` carry the code and field for clients that branch on them.
 */
const BY_CODE: Partial<Record<ErrorCode, status>> = {
  [ErrorCode.TX_UNAUTHORIZED]: status.PERMISSION_DENIED,
  [ErrorCode.NOT_FOUND]: status.NOT_FOUND,
  [ErrorCode.DEVICE_UNKNOWN]: status.NOT_FOUND,
  [ErrorCode.ENERGY_UTXO_UNKNOWN]: status.NOT_FOUND,
  [ErrorCode.RATE_LIMITED]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.MEMPOOL_FULL]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.MEMPOOL_SENDER_LIMIT]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.TX_OVERSIZE]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.SLOW_CONSUMER]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.SERVER_BUSY]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.MEMPOOL_DUPLICATE]: status.ALREADY_EXISTS,
  [ErrorCode.COMMAND_DUPLICATE]: status.ALREADY_EXISTS,
  [ErrorCode.DEVICE_EXISTS]: status.ALREADY_EXISTS,
  [ErrorCode.COMMAND_EXPIRED]: status.FAILED_PRECONDITION,
  [ErrorCode.TX_NONCE_TOO_LOW]: status.FAILED_PRECONDITION,
  [ErrorCode.TX_NONCE_TOO_HIGH]: status.FAILED_PRECONDITION,
  [ErrorCode.TX_INSUFFICIENT_BALANCE]: status.FAILED_PRECONDITION,
  [ErrorCode.MEMPOOL_INSUFFICIENT_FUNDS]: status.FAILED_PRECONDITION,
  [ErrorCode.MEMPOOL_UNDERPRICED]: status.FAILED_PRECONDITION,
  [ErrorCode.DEVICE_INACTIVE]: status.FAILED_PRECONDITION,
  [ErrorCode.STATE_PRUNED]: status.OUT_OF_RANGE,
  [ErrorCode.UNAVAILABLE]: status.UNAVAILABLE,
  [ErrorCode.REQUEST_CANCELLED]: status.CANCELLED,
};

/** The status of a JouleError code: its entry, else INVALID_ARGUMENT (a rejection of the input). */
export function grpcStatusOf(code: ErrorCode): status {
  return BY_CODE[code] ?? status.INVALID_ARGUMENT;
}

export function serviceError(code: status, details: string, joule?: { code: string; field?: string | undefined }): ServiceError {
  const metadata = new Metadata();
  if (joule !== undefined) {
    metadata.set('joule-error-code', joule.code);
    if (joule.field !== undefined) metadata.set('joule-error-field', joule.field);
  }
  return Object.assign(new Error(details), { code, details, metadata });
}

/** Any failure as the status a client gets: a JouleError by its code; anything else INTERNAL (logged, never its text on the wire). */
export function toServiceError(e: unknown, logger?: RpcLogger): ServiceError {
  if (isJouleError(e)) return serviceError(grpcStatusOf(e.code), `${e.code}: ${e.message}`, { code: e.code, field: e.field });
  logger?.error({ err: e }, 'grpc handler failed');
  return serviceError(status.INTERNAL, 'internal error');
}
