import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { grpcStatusOf, toServiceError } from './status.ts';

describe('gRPC statuses of JouleErrors', () => {
  it('a device the stream names but the chain does not accept is UNAUTHENTICATED there, NOT_FOUND / FAILED_PRECONDITION elsewhere', () => {
    expect(grpcStatusOf(ErrorCode.DEVICE_UNKNOWN, 'device-stream')).toBe(status.UNAUTHENTICATED);
    expect(grpcStatusOf(ErrorCode.DEVICE_INACTIVE, 'device-stream')).toBe(status.UNAUTHENTICATED);
    expect(grpcStatusOf(ErrorCode.DEVICE_UNKNOWN)).toBe(status.NOT_FOUND);
    expect(grpcStatusOf(ErrorCode.DEVICE_INACTIVE)).toBe(status.FAILED_PRECONDITION);
    // Every other code means the same on both.
    for (const code of [ErrorCode.DEVICE_MISBEHAVING, ErrorCode.DEVICE_NOT_SERVED, ErrorCode.RATE_LIMITED, ErrorCode.TX_BAD_SIGNATURE])
      expect(grpcStatusOf(code, 'device-stream'), code).toBe(grpcStatusOf(code));
    expect(grpcStatusOf(ErrorCode.DEVICE_MISBEHAVING)).toBe(status.PERMISSION_DENIED);
    expect(grpcStatusOf(ErrorCode.TX_BAD_SIGNATURE)).toBe(status.INVALID_ARGUMENT);
    expect(grpcStatusOf(ErrorCode.STORE_CORRUPT)).toBe(status.INTERNAL);
  });

  it('carries the Joule code and field in the trailers; anything else is INTERNAL and says nothing of its insides', () => {
    const e = toServiceError(new JouleError(ErrorCode.COMMAND_EXPIRED, 'ended', 'validUntilUs'));
    expect(e).toMatchObject({ code: status.FAILED_PRECONDITION, details: 'COMMAND_EXPIRED: validUntilUs: ended' });
    expect(e.metadata.get('joule-error-code')).toEqual(['COMMAND_EXPIRED']);
    expect(e.metadata.get('joule-error-field')).toEqual(['validUntilUs']);
    const logged: unknown[] = [];
    const internal = toServiceError(new Error('/home/secret/path'), { error: (o) => logged.push(o), warn() {}, info() {}, debug() {} });
    expect(internal).toMatchObject({ code: status.INTERNAL, details: 'internal error' });
    expect(internal.metadata.get('joule-error-code')).toEqual([]);
    expect(logged).toHaveLength(1);
  });
});
