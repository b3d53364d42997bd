import { ServerCredentials } from '@grpc/grpc-js';

/**
 * Over TLS a gRPC connection's HTTP/2 session starts only after the handshake, and grpc-js
 * closes a connection with no call open after `grpc.max_connection_idle_ms` counted from the
 * session's start: so the handshake gets the same time (Node's default is 120 s), and a
 * client that stops half-way through it holds nothing for long.
 *
 * TLS credentials as `ServerCredentials.createSsl` makes them, whose handshake must end within `ms`.
 */
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
