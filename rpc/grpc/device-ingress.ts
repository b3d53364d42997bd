import type { ErrorCode } from '../../core/errors.ts';
import type { IssuedCommand } from '../../core/command.ts';
import type { Reading } from '../../core/telemetry.ts';

/**
 * The contract between the device stream (rpc/grpc/device-stream.ts) and the node's ingress
 * (node/ingress/), as NodeApi is for JSON-RPC: rpc/ never reaches into node/.
 */

/** A reading as the device sent it, decoded and well-formed (its signature is not checked yet). */
export interface SignedReading extends Reading {
  /** 96 bytes: the device's BLS signature of core/telemetry.ts telemetrySigningBytes. */
  readonly signature: Uint8Array;
}

/** What became of one reading: accepted (verified, waiting for its batch) or dropped with the reason. */
export type ReadingVerdict = { readonly ok: true } | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

/** Who is at the other end of a stream: its connection, and with mutual TLS its certificate's subject. */
export interface DevicePeer {
  /** grpc-js `call.getPeer()`: one HTTP/2 connection's remote address. */
  readonly connection: string;
  /** Mutual TLS: the client certificate's subject CN (an account address `joule1...` by Joule's rule). */
  readonly certificateName?: string | undefined;
}

/**
 * One device's open stream, as the ingress sees it. Naming a device proves nothing (its id
 * is no secret): a stream is **proven** once a reading of it verified under the device's
 * key (or, with mutual TLS, at once: its certificate is the operator's). Only proven
 * streams receive the device's grid commands; the device stream closes one that stays
 * unproven past its deadline (DEVICE_UNPROVEN).
 */
export interface DeviceSession {
  readonly deviceId: string;
  readonly proven: boolean;
  /**
   * Verifies and checks the readings (in batches shared with other streams, through the
   * node's verification service) and queues the good ones for their telemetry batch; one
   * verdict per reading, in order. Rejects only when the ingress itself cannot work
   * (RATE_LIMITED: its queue is full; UNAVAILABLE: it is stopping).
   */
  submit(readings: readonly SignedReading[]): Promise<readonly ReadingVerdict[]>;
  /** A reading the stream dropped before the ingress saw it (malformed, another device's id), for its acknowledgement. */
  dropped(timestampUs: bigint | undefined, code: ErrorCode, message: string): void;
  /** The stream ended; idempotent. */
  close(): void;
}

export interface DeviceIngressApi {
  readonly chainId: string;
  /**
   * Opens a session for the device a stream's first reading names, or throws: DEVICE_UNKNOWN
   * (not registered) or DEVICE_INACTIVE (suspended, flagged, revoked) -> UNAUTHENTICATED;
   * DEVICE_NOT_SERVED (operated by another aggregator than this node's) -> FAILED_PRECONDITION;
   * with mutual TLS, a certificate that is not the operator's: TX_UNAUTHORIZED -> PERMISSION_DENIED
   * (rpc/grpc/status.ts).
   * `onCommand` receives the grid commands for this device while the session is open and
   * proven; those held for the device while it had no proven stream come when it is proven.
   */
  open(deviceId: string, peer: DevicePeer, onCommand: (c: IssuedCommand) => void): DeviceSession;
  /** Wall clock in µs (tests pass their own). */
  nowUs(): bigint;
}
