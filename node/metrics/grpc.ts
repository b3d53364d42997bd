import { Counter, Gauge, Histogram } from 'prom-client';
import type { DeviceStreamMetrics, GrpcMethodLabels, GrpcMetrics } from '../../rpc/grpc/metrics.ts';
import type { JouleMetrics } from './prometheus.ts';

/** The bounds of the readings' age histogram, s: fine around the seconds a reading takes to be final, so its quantiles can be read off. */
export const READING_AGE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 8, 13, 21] as const;

/** The device stream's and the ingress's series (rpc/grpc/metrics.ts DeviceStreamMetrics), on the node's registry. */
export interface IngressMetrics extends DeviceStreamMetrics {
  /** A batch of readings' own signatures verified, and how many failed. */
  verified(readings: number, bad: number): void;
  /** Readings sent in telemetry batches admitted to the mempool ('batched'), lost with their refused batch ('failed'), dropped before batching ('stale': too old, or their interval settling, by then; 'key_rotated'; 'device_changed': inactive or another operator's by then), or final but not counted ('uncounted': their device skipped when the batch executed, or the batch failed). */
  batched(outcome: 'batched' | 'failed' | 'stale' | 'key_rotated' | 'device_changed' | 'uncounted', readings: number): void;
  /**
   * Readings' ages (this node's clock minus their timestamps, s) as they reach a stage:
   * verified and accepted, in a telemetry batch admitted to the mempool, in a final block.
   * Where a reading's time to finality goes, per stage.
   */
  readingAges(stage: 'accepted' | 'batched' | 'final', ages: readonly number[]): void;
}

export function ingressMetrics(m: JouleMetrics): IngressMetrics {
  const registers = [m.registry];
  const streams = new Counter({ name: 'joule_grpc_streams_total', help: 'Device streams ended, by gRPC status', labelNames: ['status'], registers });
  const open = new Gauge({ name: 'joule_grpc_streams_open', help: 'Device streams open now', registers });
  const unproven = new Gauge({
    name: 'joule_grpc_streams_unproven',
    help: "Device streams open now with no reading verified under their device's key yet",
    registers,
  });
  const readings = new Counter({
    name: 'joule_grpc_readings_total',
    help: 'Device readings received, by outcome: accepted, or the code they were dropped with',
    labelNames: ['outcome'],
    registers,
  });
  const commands = new Counter({
    name: 'joule_grpc_commands_total',
    help: 'Grid commands for connected devices, by outcome',
    labelNames: ['outcome'],
    registers,
  });
  const verifiedSets = new Counter({ name: 'joule_ingress_signatures_verified_total', help: 'Reading signatures verified by the ingress', registers });
  const verifyCalls = new Counter({ name: 'joule_ingress_verify_batches_total', help: 'Calls to the verification service by the ingress', registers });
  const batchedReadings = new Counter({
    name: 'joule_ingress_batched_readings_total',
    help: 'Readings in telemetry batches admitted to the mempool (batched), refused (failed), dropped before batching (stale, key_rotated, device_changed), or final but not counted (uncounted)',
    labelNames: ['outcome'],
    registers,
  });
  const ages = new Histogram({
    name: 'joule_ingress_reading_age_seconds',
    help: "Readings' age (this node's clock minus the reading's timestamp) on reaching a stage: accepted (verified), batched (in a batch admitted to the mempool), final",
    labelNames: ['stage'],
    buckets: [...READING_AGE_BUCKETS],
    registers,
  });
  return {
    streamOpened: (n) => open.set(n),
    streamsUnproven: (n) => unproven.set(n),
    streamEnded(status, n) {
      streams.inc({ status });
      open.set(n);
    },
    reading: (outcome) => readings.inc({ outcome }),
    command: (outcome) => commands.inc({ outcome }),
    verified(n) {
      verifiedSets.inc(n);
      verifyCalls.inc();
    },
    batched: (outcome, n) => batchedReadings.inc({ outcome }, n),
    readingAges(stage, seconds) {
      const h = ages.labels({ stage });
      for (const s of seconds) h.observe(s);
    },
  };
}

/** The gRPC port's series (rpc/grpc/metrics.ts GrpcMetrics), every service alike, on the node's registry. */
export function grpcMetrics(m: JouleMetrics): GrpcMetrics {
  const registers = [m.registry];
  const method = ['service', 'method', 'type'] as const;
  const connections = new Gauge({ name: 'joule_grpc_connections', help: 'TCP connections to the gRPC port open now', registers });
  const refused = new Counter({
    name: 'joule_grpc_connections_refused_total',
    help: 'TCP connections closed on arrival, by reason: limit (grpc.maxConnections), per-address (grpc.maxConnectionsPerAddress)',
    labelNames: ['reason'],
    registers,
  });
  const started = new Counter({ name: 'joule_grpc_server_started_total', help: 'gRPC calls started, by method', labelNames: method, registers });
  const handled = new Counter({
    name: 'joule_grpc_server_handled_total',
    help: 'gRPC calls ended, by method and status code (CANCELLED: the client went away)',
    labelNames: [...method, 'code'],
    registers,
  });
  const open = new Gauge({ name: 'joule_grpc_server_calls_open', help: 'gRPC calls (streams) open now, by method', labelNames: method, registers });
  const received = new Counter({ name: 'joule_grpc_server_msg_received_total', help: 'gRPC messages received, by method', labelNames: method, registers });
  const sent = new Counter({ name: 'joule_grpc_server_msg_sent_total', help: 'gRPC messages sent, by method', labelNames: method, registers });
  const slow = new Counter({
    name: 'joule_grpc_slow_consumers_total',
    help: 'joule.v1 subscribers dropped for not reading, by stream',
    labelNames: ['stream'],
    registers,
  });
  const labels = (l: GrpcMethodLabels) => ({ service: l.service, method: l.method, type: l.type });
  return {
    connections: (n) => connections.set(n),
    connectionRefused: (reason) => refused.inc({ reason }),
    callStarted(l) {
      started.inc(labels(l));
      open.inc(labels(l));
    },
    callEnded(l, code) {
      handled.inc({ ...labels(l), code });
      open.dec(labels(l));
    },
    messageReceived: (l) => received.inc(labels(l)),
    messageSent: (l) => sent.inc(labels(l)),
    slowConsumer: (stream) => slow.inc({ stream }),
  };
}
