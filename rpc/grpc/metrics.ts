/**
 * What the gRPC port emits, as interfaces (node/metrics/grpc.ts implements them on
 * prom-client). Names follow Prometheus conventions and grpc-ecosystem's
 * go-grpc-prometheus series, under the `joule_` prefix.
 */

/** One method of a hosted service; `type` as go-grpc-prometheus labels it. */
export interface GrpcMethodLabels {
  /** Fully qualified service name: `joule.v1.QueryService`. */
  readonly service: string;
  readonly method: string;
  readonly type: 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';
}

/**
 * The port as a whole, every service alike: joule_grpc_connections,
 * joule_grpc_connections_refused_total{reason}, joule_grpc_server_started_total,
 * joule_grpc_server_handled_total{code}, joule_grpc_server_calls_open,
 * joule_grpc_server_msg_received_total, joule_grpc_server_msg_sent_total,
 * joule_grpc_slow_consumers_total.
 */
export interface GrpcMetrics {
  /** TCP connections open now. */
  connections(open: number): void;
  /** A TCP connection closed on arrival: the server was at its connection limit, or its address at its own. */
  connectionRefused(reason: 'limit' | 'per-address'): void;
  /** A call (a stream, for the streaming kinds) began. */
  callStarted(m: GrpcMethodLabels): void;
  /** A call ended with a status: its name ('OK', 'UNAUTHENTICATED', 'CANCELLED' when the client went away, ...). */
  callEnded(m: GrpcMethodLabels, code: string): void;
  messageReceived(m: GrpcMethodLabels): void;
  messageSent(m: GrpcMethodLabels): void;
  /** A joule.v1 subscriber dropped for not reading (RESOURCE_EXHAUSTED, SLOW_CONSUMER; a device's unread commands count in joule_grpc_commands_total). */
  slowConsumer(stream: 'events' | 'reading-acks'): void;
}

export const NO_GRPC_METRICS: GrpcMetrics = {
  connections() {},
  connectionRefused() {},
  callStarted() {},
  callEnded() {},
  messageReceived() {},
  messageSent() {},
  slowConsumer() {},
};

/**
 * What the device stream emits besides: joule_grpc_streams_total, joule_grpc_streams_open,
 * joule_grpc_streams_unproven, joule_grpc_readings_total, joule_grpc_commands_total.
 */
export interface DeviceStreamMetrics {
  /** A stream ended, by gRPC status name ('OK', 'UNAUTHENTICATED', ...); `open` streams now. */
  streamEnded(status: string, open: number): void;
  streamOpened(open: number): void;
  /** Streams open now that have not proven their device yet (rpc/grpc/device-stream.ts). */
  streamsUnproven(n: number): void;
  /** A reading's verdict: 'accepted', or the code it was dropped with. */
  reading(outcome: string): void;
  /** A command written to a device ('sent'), or not ('expired', 'slow-consumer'). */
  command(outcome: 'sent' | 'expired' | 'slow-consumer'): void;
}

export const NO_DEVICE_STREAM_METRICS: DeviceStreamMetrics = { streamEnded() {}, streamOpened() {}, streamsUnproven() {}, reading() {}, command() {} };
