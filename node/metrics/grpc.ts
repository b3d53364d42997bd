import { Counter, Gauge } from 'prom-client';
import type { DeviceStreamMetrics } from '../../rpc/grpc/metrics.ts';
import type { JouleMetrics } from './prometheus.ts';

/** The device stream's and the ingress's series (rpc/grpc/metrics.ts), on the node's registry. */
export interface IngressMetrics extends DeviceStreamMetrics {
  /** A batch of readings' own signatures verified, and how many failed. */
  verified(readings: number, bad: number): void;
  /** Readings sent in telemetry batches admitted to the mempool ('batched'), or lost ('failed'). */
  batched(outcome: 'batched' | 'failed', readings: number): void;
}

export function ingressMetrics(m: JouleMetrics): IngressMetrics {
  const registers = [m.registry];
  const streams = new Counter({ name: 'joule_grpc_streams_total', help: 'Device streams ended, by gRPC status', labelNames: ['status'], registers });
  const open = new Gauge({ name: 'joule_grpc_streams_open', help: 'Device streams open now', registers });
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
  const refused = new Counter({ name: 'joule_grpc_connections_refused_total', help: 'TCP connections closed on arrival at the connection limit', registers });
  const verifiedSets = new Counter({ name: 'joule_ingress_signatures_verified_total', help: 'Reading signatures verified by the ingress', registers });
  const verifyCalls = new Counter({ name: 'joule_ingress_verify_batches_total', help: 'Calls to the verification service by the ingress', registers });
  const batchedReadings = new Counter({
    name: 'joule_ingress_batched_readings_total',
    help: 'Readings in telemetry batches admitted to the mempool (batched) or refused (failed)',
    labelNames: ['outcome'],
    registers,
  });
  return {
    streamOpened: (n) => open.set(n),
    streamEnded(status, n) {
      streams.inc({ status });
      open.set(n);
    },
    reading: (outcome) => readings.inc({ outcome }),
    command: (outcome) => commands.inc({ outcome }),
    connectionRefused: () => refused.inc(),
    verified(n) {
      verifiedSets.inc(n);
      verifyCalls.inc();
    },
    batched: (outcome, n) => batchedReadings.inc({ outcome }, n),
  };
}
