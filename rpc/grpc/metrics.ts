/**
 * What the gRPC device stream emits, as an interface (node/metrics/grpc.ts implements it on
 * prom-client: joule_grpc_streams_total, joule_grpc_streams_open, joule_grpc_readings_total,
 * joule_grpc_commands_total, joule_grpc_connections_refused_total).
 */
export interface DeviceStreamMetrics {
  /** A stream ended, by gRPC status name ('OK', 'UNAUTHENTICATED', ...); `open` streams now. */
  streamEnded(status: string, open: number): void;
  streamOpened(open: number): void;
  /** A reading's verdict: 'accepted', or the code it was dropped with. */
  reading(outcome: string): void;
  /** A command written to a device ('sent'), or not ('expired', 'slow-consumer'). */
  command(outcome: 'sent' | 'expired' | 'slow-consumer'): void;
  /** A TCP connection closed on arrival: the server was at its connection limit. */
  connectionRefused(): void;
}

export const NO_DEVICE_STREAM_METRICS: DeviceStreamMetrics = { streamEnded() {}, streamOpened() {}, reading() {}, command() {}, connectionRefused() {} };
