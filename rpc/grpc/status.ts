import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ErrorCode, isJouleError } from '../../core/errors.ts';
import type { RpcLogger } from '../node-api.ts';

/**
 * JouleError codes as gRPC statuses (https://grpc.github.io/grpc/core/md_doc_statuscodes.html),
 * for every service on the gRPC port. The status details are "CODE: message"; the trailers
 * `joule-error-code` and `joule-error-field` carry the code and field, so a client gets the
 * same typed error it would over JSON-RPC and can branch on it.
 */
const BY_CODE: Partial<Record<ErrorCode, status>> = {
  [ErrorCode.TX_UNAUTHORIZED]: status.PERMISSION_DENIED,
  [ErrorCode.DEVICE_MISBEHAVING]: status.PERMISSION_DENIED,
  [ErrorCode.DEVICE_UNPROVEN]: status.UNAUTHENTICATED,
  [ErrorCode.NOT_FOUND]: status.NOT_FOUND,
  [ErrorCode.DEVICE_UNKNOWN]: status.NOT_FOUND,
  [ErrorCode.ENERGY_UTXO_UNKNOWN]: status.NOT_FOUND,
  [ErrorCode.RATE_LIMITED]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.SLOW_CONSUMER]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.SERVER_BUSY]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.MEMPOOL_FULL]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.MEMPOOL_SENDER_LIMIT]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.TX_OVERSIZE]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.BODY_TOO_LARGE]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.RESPONSE_TOO_LARGE]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.BATCH_TOO_LARGE]: status.RESOURCE_EXHAUSTED,
  [ErrorCode.MEMPOOL_DUPLICATE]: status.ALREADY_EXISTS,
  [ErrorCode.COMMAND_DUPLICATE]: status.ALREADY_EXISTS,
  [ErrorCode.DEVICE_EXISTS]: status.ALREADY_EXISTS,
  [ErrorCode.DEVICE_INACTIVE]: status.FAILED_PRECONDITION,
  [ErrorCode.DEVICE_NOT_SERVED]: status.FAILED_PRECONDITION,
  [ErrorCode.COMMAND_EXPIRED]: status.FAILED_PRECONDITION,
  [ErrorCode.MEMPOOL_NONCE_TAKEN]: status.ABORTED,
  [ErrorCode.TX_NONCE_TOO_LOW]: status.FAILED_PRECONDITION,
  [ErrorCode.TX_NONCE_TOO_HIGH]: status.FAILED_PRECONDITION,
  [ErrorCode.TX_INSUFFICIENT_BALANCE]: status.FAILED_PRECONDITION,
  [ErrorCode.MEMPOOL_INSUFFICIENT_FUNDS]: status.FAILED_PRECONDITION,
  [ErrorCode.MEMPOOL_UNDERPRICED]: status.FAILED_PRECONDITION,
  [ErrorCode.ENERGY_UTXO_FROZEN]: status.FAILED_PRECONDITION,
  [ErrorCode.INTERVAL_NOT_FROZEN]: status.FAILED_PRECONDITION,
  [ErrorCode.STATE_PRUNED]: status.OUT_OF_RANGE,
  [ErrorCode.UNAVAILABLE]: status.UNAVAILABLE,
  [ErrorCode.REQUEST_CANCELLED]: status.CANCELLED,
  [ErrorCode.REQUEST_TIMEOUT]: status.DEADLINE_EXCEEDED,
  [ErrorCode.STORE_CORRUPT]: status.INTERNAL,
  [ErrorCode.STORAGE_FAILED]: status.INTERNAL,
  [ErrorCode.HOOK_FAILED]: status.INTERNAL,
  [ErrorCode.SAFETY_VIOLATION]: status.INTERNAL,
  [ErrorCode.STATE_UNDECLARED_READ]: status.INTERNAL,
};

/**
 * On the device stream the device id is the credential: a stream naming a device that is
 * not registered or not active is not authenticated (UNAUTHENTICATED, the rule),
 * where a query for that device is NOT_FOUND and a tx about it FAILED_PRECONDITION.
 */
const ON_DEVICE_STREAM: Partial<Record<ErrorCode, status>> = {
  [ErrorCode.DEVICE_UNKNOWN]: status.UNAUTHENTICATED,
  [ErrorCode.DEVICE_INACTIVE]: status.UNAUTHENTICATED,
};

/** Where the error is answered: Joule's services, or the device stream (ConnectDevice). */
export type StatusContext = 'service' | 'device-stream';

/** The status of a JouleError code: its entry, else INVALID_ARGUMENT (a rejection of the input: codec, tx, telemetry, params). */
export function grpcStatusOf(code: ErrorCode, context: StatusContext = 'service'): status {
  return (context === 'device-stream' ? ON_DEVICE_STREAM[code] : undefined) ?? BY_CODE[code] ?? status.INVALID_ARGUMENT;
}

/** A status a handler ends a call with (a callback's error or a stream's 'error'), with the Joule trailers when given. */
export function serviceError(code: status, details: string, joule?: { code: string; field?: string | undefined }): ServiceError {
  const metadata = new Metadata();
  if (joule !== undefined) {
    metadata.set('joule-error-code', joule.code);
    if (joule.field !== undefined) metadata.set('joule-error-field', joule.field);
  }
  return Object.assign(new Error(details), { code, details, metadata });
}

/** Any failure as the status a client gets: a JouleError by its code; anything else INTERNAL (logged, never its text on the wire). */
export function toServiceError(e: unknown, logger?: RpcLogger, context: StatusContext = 'service'): ServiceError {
  if (isJouleError(e)) return serviceError(grpcStatusOf(e.code, context), `${e.code}: ${e.message}`, { code: e.code, field: e.field });
  logger?.error({ err: e }, 'grpc handler failed');
  return serviceError(status.INTERNAL, 'internal error');
}
