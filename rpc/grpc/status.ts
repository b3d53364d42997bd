import { status as GrpcStatus, Metadata, type StatusObject } from '@grpc/grpc-js';
import { ErrorCode, isJouleError, type JouleError } from '../../core/errors.ts';

/**
 * A JouleError's code as a gRPC status (https://grpc.github.io/grpc/core/md_doc_statuscodes.html).
 * The Joule code and field ride along in the trailers (`joule-error-code`, `joule-error-field`, as rpc/grpc/joule-status.ts), so a
 * client gets the same typed error it would over JSON-RPC.
 */
const BY_CODE: Partial<Record<ErrorCode, GrpcStatus>> = {
  [ErrorCode.DEVICE_UNKNOWN]: GrpcStatus.UNAUTHENTICATED,
  [ErrorCode.DEVICE_INACTIVE]: GrpcStatus.UNAUTHENTICATED,
  [ErrorCode.DEVICE_MISBEHAVING]: GrpcStatus.PERMISSION_DENIED,
  [ErrorCode.DEVICE_NOT_SERVED]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorCode.TX_UNAUTHORIZED]: GrpcStatus.PERMISSION_DENIED,
  [ErrorCode.RATE_LIMITED]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ErrorCode.SLOW_CONSUMER]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ErrorCode.SERVER_BUSY]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ErrorCode.MEMPOOL_FULL]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ErrorCode.MEMPOOL_SENDER_LIMIT]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ErrorCode.BODY_TOO_LARGE]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ErrorCode.RESPONSE_TOO_LARGE]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ErrorCode.BATCH_TOO_LARGE]: GrpcStatus.RESOURCE_EXHAUSTED,
  [ErrorCode.NOT_FOUND]: GrpcStatus.NOT_FOUND,
  [ErrorCode.ENERGY_UTXO_UNKNOWN]: GrpcStatus.NOT_FOUND,
  [ErrorCode.STATE_PRUNED]: GrpcStatus.OUT_OF_RANGE,
  [ErrorCode.DEVICE_EXISTS]: GrpcStatus.ALREADY_EXISTS,
  [ErrorCode.MEMPOOL_DUPLICATE]: GrpcStatus.ALREADY_EXISTS,
  [ErrorCode.TX_NONCE_TOO_LOW]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorCode.TX_NONCE_TOO_HIGH]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorCode.TX_INSUFFICIENT_BALANCE]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorCode.MEMPOOL_INSUFFICIENT_FUNDS]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorCode.MEMPOOL_UNDERPRICED]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorCode.ENERGY_UTXO_FROZEN]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorCode.INTERVAL_NOT_FROZEN]: GrpcStatus.FAILED_PRECONDITION,
  [ErrorCode.UNAVAILABLE]: GrpcStatus.UNAVAILABLE,
  [ErrorCode.REQUEST_CANCELLED]: GrpcStatus.CANCELLED,
  [ErrorCode.REQUEST_TIMEOUT]: GrpcStatus.DEADLINE_EXCEEDED,
  [ErrorCode.STORE_CORRUPT]: GrpcStatus.INTERNAL,
  [ErrorCode.STORAGE_FAILED]: GrpcStatus.INTERNAL,
  [ErrorCode.HOOK_FAILED]: GrpcStatus.INTERNAL,
  [ErrorCode.SAFETY_VIOLATION]: GrpcStatus.INTERNAL,
  [ErrorCode.STATE_UNDECLARED_READ]: GrpcStatus.INTERNAL,
};

/** Everything else a client sent wrong (codec, tx, telemetry, params) is INVALID_ARGUMENT. */
export function grpcStatusOf(code: ErrorCode): GrpcStatus {
  return BY_CODE[code] ?? GrpcStatus.INVALID_ARGUMENT;
}

/** The status object a handler ends a call with; an error that is not a JouleError is INTERNAL and says nothing of its insides. */
export function grpcErrorOf(e: unknown): Partial<StatusObject> & { code: GrpcStatus; details: string } {
  const metadata = new Metadata();
  if (!isJouleError(e)) return { code: GrpcStatus.INTERNAL, details: 'internal error', metadata };
  const j = e as JouleError;
  metadata.set('joule-error-code', j.code);
  if (j.field !== undefined) metadata.set('joule-error-field', j.field);
  return { code: grpcStatusOf(j.code), details: `${j.code}: ${j.message}`, metadata };
}
