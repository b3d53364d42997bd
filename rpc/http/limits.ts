/**
 * The RPC port's resource limits and their defaults. What a hostile client can make the
 * node hold is bounded per connection (a body, a send buffer) times the number of
 * connections, so the connection caps are sized from the memory the process may use: the
 * V8 heap limit, which Node derives from the machine's memory and an operator sets with
 * `--max-old-space-size`.
 */
import { getHeapStatistics } from 'node:v8';
import { defaultPerAddress } from '../per-address-limit.ts';

export interface TransportLimits {
  /** Largest request body (413 beyond). */
  readonly maxBodyBytes: number;
  /** Request-body bytes being read, all connections together; a request that would pass it gets 503. */
  readonly maxBodyBytesInFlight: number;
  /** Open TCP connections to the RPC port, HTTP and WebSocket together; more are closed at accept. */
  readonly maxConnections: number;
  /** Of those, the most one remote address may hold; more from it are closed at accept. */
  readonly maxConnectionsPerAddress: number;
  /**
   * Requests of one connection being handled at once: HTTP/1.1 pipelining hands Node every
   * request a client writes before it reads an answer, all at once; past this they get 429.
   */
  readonly maxRequestsPerConnection: number;
  /** A request's headers and body must arrive within this (408 otherwise). */
  readonly requestTimeoutMs: number;
}

export const MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 1024;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_REQUESTS_PER_CONNECTION = 16;

const MiB = 1024 * 1024;

/** The memory the process may use: V8's heap limit. */
export function processMemoryBytes(): number {
  return getHeapStatistics().heap_size_limit;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, Math.floor(v)));
}

/**
 * Request bodies in flight may take 1/64 of the process's memory, between 8 and 64 MiB:
 * 64 MiB is 64 full-size bodies at once, more than honest clients send, and a thousand
 * connections each sending most of a body no longer add a gigabyte.
 */
export function defaultMaxBodyBytesInFlight(memoryBytes = processMemoryBytes()): number {
  return clamp(memoryBytes / 64, 8 * MiB, 64 * MiB);
}

/**
 * WebSocket connections: each may hold `perConnectionBytes` (its send buffer up to the
 * slow-consumer limit, a message being received, and the messages being processed) of its
 * own; together they may take a quarter of the process's memory. Notifications are shared
 * between connections and do not count here. Between 16 and 1,000 (170 with a 4 GiB heap
 * and the default limits).
 */
export function defaultMaxWsConnections(perConnectionBytes: number, memoryBytes = processMemoryBytes()): number {
  return clamp(memoryBytes / 4 / perConnectionBytes, 16, 1000);
}

/** The limits with `given` applied; those not given are defaults, the per-address share derived from the connection cap in force. */
export function transportLimits(given: Partial<TransportLimits> = {}, memoryBytes = processMemoryBytes()): TransportLimits {
  const maxConnections = given.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  return {
    maxBodyBytes: MAX_BODY_BYTES,
    maxBodyBytesInFlight: defaultMaxBodyBytesInFlight(memoryBytes),
    requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
    maxRequestsPerConnection: DEFAULT_MAX_REQUESTS_PER_CONNECTION,
    ...given,
    maxConnections,
    maxConnectionsPerAddress: given.maxConnectionsPerAddress ?? defaultPerAddress(maxConnections),
  };
}

/** Bytes of request bodies being read, all connections together: a request takes what arrives and gives it all back when it is done. */
export class BodyBudget {
  readonly limit: number;
  #used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get used(): number {
    return this.#used;
  }

  /** Takes `bytes` if they fit; false (and nothing taken) otherwise. */
  take(bytes: number): boolean {
    if (this.#used + bytes > this.limit) return false;
    this.#used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#used -= bytes;
  }
}
