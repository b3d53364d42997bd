import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { callMetricsInterceptor } from './call-metrics.ts';
import { PerAddressLimit } from '../per-address-limit.ts';
import { withHandshakeTimeout } from './handshake-timeout.ts';
import { type GrpcMetrics, NO_GRPC_METRICS } from './metrics.ts';

/** One service the server hosts (the device stream, and Joule's own services from rpc/grpc/joule-*.ts). */
export interface GrpcService {
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

/**
 * Transport security. Without it the server speaks plaintext HTTP/2, which is for a devnet
 * on loopback only (the node says so in its log). With `clientCa`, every client must show a
 * certificate signed by that CA (mutual TLS); the device stream then also requires the
 * certificate to belong to the device's operator (rpc/grpc/device-stream.ts).
 */
export interface GrpcTls {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly clientCa?: Buffer | undefined;
}

export interface GrpcLimits {
  /** Largest message received, bytes. What the server sends is its own, bounded by the block size: up to MAX_SEND_MESSAGE_BYTES. */
  readonly maxMessageBytes: number;
  /** Concurrent streams (calls) on one HTTP/2 connection. */
  readonly maxStreamsPerConnection: number;
  /** TCP connections at once; beyond, new ones are closed as they arrive. */
  readonly maxConnections: number;
  /** TCP connections at once from one remote address; beyond, new ones from it are closed as they arrive. */
  readonly maxConnectionsPerAddress: number;
  /**
   * A connection with no call open this long is closed, ms: from its arrival (a TLS
   * handshake included) or from its last call's end. Clients reconnect on their next call.
   */
  readonly idleConnectionMs: number;
  /** The server pings a connection this long silent, and closes it if the ping is not answered within keepaliveTimeoutMs: a device gone without a FIN does not hold its place, ms. */
  readonly keepaliveMs: number;
  readonly keepaliveTimeoutMs: number;
}

/**
 * The largest message the server sends: a block of the largest size the chain allows (64
 * MiB, its tx hashes or its txs) with room to spare. Answers are built from committed state,
 * never from what a client sent, so this bounds nothing a client controls; a block message
 * past a receive-sized limit would end every block subscriber at the first full block.
 */
export const MAX_SEND_MESSAGE_BYTES = 80 * 1024 * 1024;

export const DEFAULT_GRPC_LIMITS: GrpcLimits = {
  maxMessageBytes: 64 * 1024,
  maxStreamsPerConnection: 128,
  maxConnections: 4096,
  maxConnectionsPerAddress: 1024,
  idleConnectionMs: 30_000,
  keepaliveMs: 60_000,
  keepaliveTimeoutMs: 20_000,
};

export interface GrpcServerOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: GrpcTls | undefined;
  readonly limits?: Partial<GrpcLimits>;
  readonly services: readonly GrpcService[];
  /** The packages server reflection describes (their .proto files as proto-loader loaded them). */
  readonly reflect?: readonly PackageDefinition[];
  /** Connections, calls by method and status, messages (joule_grpc_*). */
  readonly metrics?: GrpcMetrics;
}

export interface RunningGrpcServer {
  readonly port: number;
  readonly tls: boolean;
  /** Connections open now. */
  connections(): number;
  /** Marks every service SERVING or NOT_SERVING in the health service (a node that lost its chain, say). */
  setServing(serving: boolean): void;
  /** Stops accepting, ends the calls still open (after `graceMs`, forcibly) and closes. */
  close(graceMs?: number): Promise<void>;
}

/** The service names a definition holds (`energysettlement.v1.EnergyDeviceStream`), for health. */
function serviceNames(services: readonly GrpcService[]): string[] {
  const names = new Set<string>();
  for (const s of services) {
    for (const m of Object.values(s.definition)) {
      const path = m.path.replace(/^\//, '');
      names.add(path.slice(0, path.lastIndexOf('/')));
    }
  }
  return [...names];
}

/**
 * The node's gRPC port, on grpc-js. The TCP listener is our own `net.Server` (its
 * `maxConnections` is the connection limit grpc-js does not have) that hands each accepted
 * socket to grpc-js through a connection injector, TLS or not, once its address is within
 * its own limit (rpc/per-address-limit.ts; rpc/grpc/handshake-timeout.ts says why slow TLS
 * handshakes are closed). Message size, streams per connection, idle connections and
 * keepalive are grpc-js channel options; every server carries the standard health service
 * (`grpc.health.v1.Health`, empty name = the whole server) and server reflection, and counts
 * every call in `metrics` through a server interceptor.
 */
export async function startGrpcServer(opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  const limits = { ...DEFAULT_GRPC_LIMITS, ...opts.limits };
  const metrics = opts.metrics ?? NO_GRPC_METRICS;
  const perAddress = new PerAddressLimit(limits.maxConnectionsPerAddress);
  const server = new Server({
    interceptors: [callMetricsInterceptor(metrics)],
    'grpc.max_receive_message_length': limits.maxMessageBytes,
    'grpc.max_send_message_length': MAX_SEND_MESSAGE_BYTES,
    'grpc.max_concurrent_streams': limits.maxStreamsPerConnection,
    'grpc.max_connection_idle_ms': limits.idleConnectionMs,
    'grpc.keepalive_time_ms': limits.keepaliveMs,
    'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
    // What one connection may hold in HTTP/2 buffers before grpc-js refuses new streams on it.
    'grpc-node.max_session_memory': 16,
  });
  for (const s of opts.services) server.addService(s.definition, s.implementation);
  const names = serviceNames(opts.services);
  const health = new HealthImplementation(Object.fromEntries(['', ...names].map((n) => [n, 'SERVING' as const])));
  health.addToServer(server);
  // One reflection service over every package (grpc-js refuses a second one on the same server).
  if (opts.reflect !== undefined && opts.reflect.length > 0) new ReflectionService(Object.assign({}, ...opts.reflect) as PackageDefinition).addToServer(server);

  const credentials =
    opts.tls === undefined
      ? ServerCredentials.createInsecure()
      : withHandshakeTimeout(
          ServerCredentials.createSsl(opts.tls.clientCa ?? null, [{ private_key: opts.tls.key, cert_chain: opts.tls.cert }], opts.tls.clientCa !== undefined),
          limits.idleConnectionMs,
        );
  const injector = server.createConnectionInjector(credentials);
  const sockets = new Set<Socket>();
  const listener: NetServer = createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => socket.destroy());
    const giveBack = perAddress.admit(socket.remoteAddress ?? '');
    if (giveBack === undefined) {
      metrics.connectionRefused('per-address');
      socket.destroy();
      return;
    }
    sockets.add(socket);
    metrics.connections(sockets.size);
    socket.once('close', () => {
      giveBack();
      sockets.delete(socket);
      metrics.connections(sockets.size);
    });
    injector.injectConnection(socket);
  });
  listener.maxConnections = limits.maxConnections;
  listener.on('drop', () => metrics.connectionRefused('limit'));
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(opts.port, opts.host, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  const address = listener.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  let closed: Promise<void> | undefined;
  return {
    port,
    tls: opts.tls !== undefined,
    connections: () => sockets.size,
    setServing(serving) {
      for (const n of ['', ...names]) health.setStatus(n, serving ? 'SERVING' : 'NOT_SERVING');
    },
    close(graceMs = 1000) {
      closed ??= new Promise<void>((resolve) => {
        for (const n of ['', ...names]) health.setStatus(n, 'NOT_SERVING');
        listener.close();
        injector.drain(graceMs);
        const done = () => {
          injector.destroy();
          server.forceShutdown();
          for (const s of sockets) s.destroy();
          resolve();
        };
        server.tryShutdown(() => done());
        setTimeout(done, graceMs).unref();
      });
      return closed;
    },
  };
}
