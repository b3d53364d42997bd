import type { Socket } from 'node:net';
import { ServerCredentials } from '@grpc/grpc-js';

/**
 * What one client can make the gRPC port hold by connecting and not using the connection.
 *
 * - No more than `maxPerAddress` connections from one remote address (PerAddressLimit), so
 *   that one host cannot take the port's whole connection limit and lock every device out.
 * - A connection without a call open is closed after `idleConnectionMs`: grpc-js does it
 *   for a connection that has an HTTP/2 session (`grpc.max_connection_idle_ms`: from the
 *   session's start, or from its last call's end), and over TLS the session starts only
 *   after the handshake, so the handshake gets the same time (withHandshakeTimeout; Node's
 *   default is 120 s): a client that stops half-way through it holds nothing for long.
 */
export class PerAddressLimit {
  private readonly maxPerAddress: number;
  private readonly held = new Map<string, number>();

  constructor(maxPerAddress: number) {
    this.maxPerAddress = maxPerAddress;
  }

  /** Takes a new connection in (true), or refuses it (false: the caller closes it). A connection taken is let go when it closes. */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress ?? '';
    const n = this.held.get(address) ?? 0;
    if (n >= this.maxPerAddress) return false;
    this.held.set(address, n + 1);
    socket.once('close', () => {
      const left = (this.held.get(address) ?? 1) - 1;
      if (left === 0) this.held.delete(address);
      else this.held.set(address, left);
    });
    return true;
  }
}

/** TLS credentials as `ServerCredentials.createSsl` makes them, whose handshake must end within `ms`. */
export function withHandshakeTimeout(tls: ServerCredentials, ms: number): ServerCredentials {
  return new HandshakeTimeoutCredentials(tls, ms);
}

class HandshakeTimeoutCredentials extends ServerCredentials {
  constructor(tls: ServerCredentials, ms: number) {
    super({ ...tls._getConstructorOptions(), handshakeTimeout: ms }, tls._getSecureContextOptions() ?? undefined);
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}
