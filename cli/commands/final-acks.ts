import { fileURLToPath } from 'node:url';
import {
  type Client,
  type ClientReadableStream,
  credentials,
  loadPackageDefinition,
  type ServiceClientConstructor,
  status,
  type StatusObject,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { CliError } from '../rpc-client.ts';
import { LatencyHistogram } from './latency-histogram.ts';

/**
 * When `joule simulate devices --devnet` readings become final, as a device sees it: each
 * validator's per-reading acknowledgements (joule.v1.EventService/SubscribeReadingAcks) for
 * the devices streaming to it. A reading is final when its 'final' ack without a failure
 * reason arrives (the validator whose aggregator batched it sends that ack when the batch's
 * block is final there), and its send-to-final latency ends at that arrival: no polling, no
 * block fetched. A 'final' ack with a reason (the reading is in a block but did not count:
 * its batch failed, or skipped its device) and a 'rejected' ack end the reading uncounted,
 * by reason; a reading with no final ack `giveUpMs` after it was sent is given up on and
 * counted as such. A subscription that ends (a slow consumer is dropped by the node) is
 * counted by its code and opened again a second later; the acks sent meanwhile are lost,
 * so their readings show as without a final ack.
 */

const PROTO_ROOT = fileURLToPath(new URL('../../proto/', import.meta.url));

/** The node refuses more devices per subscription. */
export const MAX_ACK_DEVICES = 1000;
/**
 * The node writes a block's final acks to a subscriber in one go and drops it once 256 + 4
 * per device it names are unread (rpc/grpc/joule-events.ts): a subscription should see few
 * enough readings a second that a block interval of a few seconds, at any rate per device,
 * stays well under that.
 */
const ACK_READINGS_PER_SECOND_PER_SUBSCRIPTION = 50;
/** The node takes 256 acknowledgement subscribers in all (and 128 streams a connection): leave it room. */
const MAX_SUBSCRIPTIONS_PER_NODE = 64;
const RESUBSCRIBE_MS = 1000;
/** The server registers a subscription once its request arrives, which no message confirms: a pause after the connection is up. */
const SETTLE_MS = 300;

/** A ReadingAck (proto/joule/v1/types.proto) as proto-loader reads it (enums by name, 64-bit integers as strings). */
interface AckMessage {
  device_id: string;
  timestamp_us: string;
  outcome: 'ACCEPTED' | 'REJECTED' | 'BATCHED' | 'FINAL';
  reason: string;
  height: string;
}

type AckClient = Client & {
  SubscribeReadingAcks(req: { device_ids: readonly string[]; outcomes: readonly AckMessage['outcome'][] }): ClientReadableStream<AckMessage>;
};

function eventClientConstructor(): ServiceClientConstructor {
  const pkg = loadSync('joule/v1/events.proto', { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [PROTO_ROOT] });
  return (loadPackageDefinition(pkg) as unknown as { joule: { v1: { EventService: ServiceClientConstructor } } }).joule.v1.EventService;
}

/**
 * `deviceIds` in subscriptions of at most MAX_ACK_DEVICES, each of about
 * ACK_READINGS_PER_SECOND_PER_SUBSCRIPTION readings a second when every device sends
 * `perDevicePerSecond`, and at most MAX_SUBSCRIPTIONS_PER_NODE of them where that allows.
 */
export function ackSubscriptions(deviceIds: readonly string[], perDevicePerSecond: number): string[][] {
  const byRate = Math.max(1, Math.floor(ACK_READINGS_PER_SECOND_PER_SUBSCRIPTION / perDevicePerSecond));
  const size = Math.min(MAX_ACK_DEVICES, Math.max(byRate, Math.ceil(deviceIds.length / MAX_SUBSCRIPTIONS_PER_NODE)));
  const out: string[][] = [];
  for (let i = 0; i < deviceIds.length; i += size) out.push(deviceIds.slice(i, i + size));
  return out;
}

const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

export class FinalAcks {
  private readonly giveUpMs: number;
  private readonly now: () => number;
  private readonly connectTimeoutMs: number;
  /** Readings sent and not yet ended, by deviceId/timestampUs, in the order sent: the moment each was sent. */
  private readonly inFlight = new Map<string, number>();
  private readonly windowLatencies: LatencyHistogram;
  private readonly runLatencies: LatencyHistogram;
  private readonly clients: Client[] = [];
  private readonly calls = new Set<ClientReadableStream<AckMessage>>();
  private readonly retries = new Set<NodeJS.Timeout>();
  private closed = false;
  /** Readings whose final ack (without a reason) arrived. */
  final = 0;
  /** Readings in a final block that did not count (the batch failed, or skipped the device), by reason. */
  readonly uncounted: Record<string, number> = {};
  /** Readings the node dropped, by reason. */
  readonly rejected: Record<string, number> = {};
  /** The highest block a final ack named (the blocks the cross-check must see). */
  highestFinalBlock = 0;
  /** Readings no final ack came for within giveUpMs (or by the end of the run). */
  noFinalAck = 0;
  /** Subscriptions that ended, by the code they ended with (SLOW_CONSUMER: the node dropped one that fell behind). */
  readonly ended: Record<string, number> = {};

  constructor(o: { giveUpMs: number; now?: () => number; connectTimeoutMs?: number }) {
    this.giveUpMs = o.giveUpMs;
    this.now = o.now ?? Date.now;
    this.connectTimeoutMs = o.connectTimeoutMs ?? 10_000;
    this.windowLatencies = new LatencyHistogram(o.giveUpMs);
    this.runLatencies = new LatencyHistogram(o.giveUpMs);
  }

  /**
   * Subscribes, at each node's gRPC `address`, to the acks of its `deviceIds` (each sending
   * `perDevicePerSecond` readings a second), and waits until the subscriptions are likely
   * live: send after this. A node that cannot be reached closes them all (UNAVAILABLE).
   */
  async subscribe(nodes: readonly { address: string; deviceIds: readonly string[] }[], perDevicePerSecond: number): Promise<void> {
    const Ctor = eventClientConstructor();
    try {
      await Promise.all(
        nodes.map(async ({ address, deviceIds }) => {
          if (deviceIds.length === 0) return;
          // A pool of its own: the acks do not share a connection with the device streams.
          const client = new Ctor(address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }) as unknown as AckClient;
          this.clients.push(client);
          await new Promise<void>((resolve, reject) =>
            client.waitForReady(Date.now() + this.connectTimeoutMs, (e) =>
              e === undefined || e === null ? resolve() : reject(new CliError('UNAVAILABLE', `no gRPC connection to ${address}: ${e.message}`, 'devnet')),
            ),
          );
          for (const ids of ackSubscriptions(deviceIds, perDevicePerSecond)) this.open(client, ids);
        }),
      );
    } catch (e) {
      this.close();
      throw e;
    }
    await new Promise((r) => setTimeout(r, SETTLE_MS));
  }

  /** The reading `deviceId`/`timestampUs` was sent now. */
  sent(deviceId: string, timestampUs: bigint): void {
    const now = this.now();
    this.giveUp(now);
    this.inFlight.set(`${deviceId}/${timestampUs}`, now);
  }

  /** Readings sent and not yet ended. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Send-to-final p50 and p99 (ms) of the readings final since the last call, and a fresh window. */
  takeWindow(): { p50: number | null; p99: number | null } {
    this.giveUp(this.now());
    const out = { p50: this.windowLatencies.percentile(50), p99: this.windowLatencies.percentile(99) };
    this.windowLatencies.clear();
    return out;
  }

  /** Send-to-final p50 and p99 (ms) of the run's final readings. */
  runPercentiles(): { p50: number | null; p99: number | null } {
    return { p50: this.runLatencies.percentile(50), p99: this.runLatencies.percentile(99) };
  }

  /** Ends the subscriptions; the readings still in flight count as without a final ack. */
  close(): void {
    this.closed = true;
    for (const t of this.retries) clearTimeout(t);
    this.retries.clear();
    for (const c of this.calls) c.cancel();
    this.calls.clear();
    for (const c of this.clients) c.close();
    this.noFinalAck += this.inFlight.size;
    this.inFlight.clear();
  }

  private open(client: AckClient, ids: readonly string[]): void {
    if (this.closed) return;
    // Only what ends a reading: the node sends no accepted or batched acks to read past.
    const call = client.SubscribeReadingAcks({ device_ids: ids, outcomes: ['REJECTED', 'FINAL'] });
    this.calls.add(call);
    call.on('data', (a: AckMessage) => this.ack(a));
    // Its status says how it ended ('error' comes first for any but OK).
    call.on('error', () => {});
    call.on('status', (s: StatusObject) => {
      this.calls.delete(call);
      if (this.closed) return;
      bump(this.ended, /^[A-Z_]+(?=:)/.exec(s.details)?.[0] ?? status[s.code] ?? String(s.code));
      const t = setTimeout(() => {
        this.retries.delete(t);
        this.open(client, ids);
      }, RESUBSCRIBE_MS);
      this.retries.add(t);
    });
  }

  private ack(a: AckMessage): void {
    if (a.outcome !== 'FINAL' && a.outcome !== 'REJECTED') return;
    const key = `${a.device_id}/${a.timestamp_us}`;
    const sentAt = this.inFlight.get(key);
    // Not ours (a bad reading, another run's), or already ended or given up.
    if (sentAt === undefined) return;
    this.inFlight.delete(key);
    if (a.outcome === 'REJECTED') return bump(this.rejected, a.reason === '' ? 'UNKNOWN' : a.reason);
    this.highestFinalBlock = Math.max(this.highestFinalBlock, Number(a.height));
    if (a.reason !== '') return bump(this.uncounted, a.reason);
    this.final++;
    const ms = this.now() - sentAt;
    this.windowLatencies.add(ms);
    this.runLatencies.add(ms);
  }

  /** Forgets, oldest first (the map is in the order sent), the readings sent more than giveUpMs ago. */
  private giveUp(now: number): void {
    for (const [key, at] of this.inFlight) {
      if (at >= now - this.giveUpMs) break;
      this.inFlight.delete(key);
      this.noFinalAck++;
    }
  }
}
