import { Server, ServerCredentials } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ReadingAck } from '../../rpc/node-api.ts';
import { jouleGrpcServices } from '../../rpc/grpc/joule-services.ts';
import { createFakeNode, type FakeNode } from '../../rpc/testing/fake-node.ts';
import { ackSubscriptions, FinalAcks, MAX_ACK_DEVICES } from './final-acks.ts';

/**
 * The simulator's finals and latencies from the acknowledgement stream: the node's own
 * joule.v1.EventService on a real grpc-js server (loopback), fed acks by a fake node, and
 * a clock the test sets, so a latency is exactly the clock at the ack's arrival minus the
 * clock at the send.
 */

let fake: FakeNode;
let server: Server;
let address: string;
let clock = 0;
const open: FinalAcks[] = [];

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function tracker(): FinalAcks {
  const acks = new FinalAcks({ giveUpMs: 60_000, now: () => clock, connectTimeoutMs: 1000 });
  open.push(acks);
  return acks;
}

const ack = (deviceId: string, timestampUs: bigint, outcome: ReadingAck['outcome'], reason?: string): ReadingAck => ({
  deviceId,
  timestampUs,
  outcome,
  ...(reason === undefined ? {} : { reason }),
  ...(outcome === 'batched' || outcome === 'final' ? { txHash: new Uint8Array(32).fill(1) } : {}),
  ...(outcome === 'final' ? { height: 7 } : {}),
});

beforeAll(async () => {
  fake = createFakeNode();
  server = new Server();
  // The node's limits: a subscriber with 256 messages unread is dropped.
  for (const s of jouleGrpcServices({ api: fake })) server.addService(s.definition, s.implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e === null ? resolve(p) : reject(e))),
  );
  address = `127.0.0.1:${port}`;
});

afterEach(async () => {
  for (const a of open.splice(0)) a.close();
  await until('the subscriptions gone from the node', () => fake.listenerCount() === 0);
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
});

describe('FinalAcks', () => {
  it("counts a reading final, with its latency, when its 'final' ack without a reason arrives; rejected, uncounted and unacknowledged ones are not", async () => {
    const acks = tracker();
    await acks.subscribe([{ address, deviceIds: ['d-1', 'd-2'] }], 1);
    expect(fake.listenerCount()).toBe(1);
    clock = 1000;
    for (const [id, ts] of [
      ['d-1', 1n],
      ['d-1', 2n],
      ['d-2', 3n],
      ['d-2', 4n],
    ] as const)
      acks.sent(id, ts);
    clock = 1400;
    fake.ack(ack('d-1', 1n, 'accepted'));
    fake.ack(ack('d-1', 1n, 'batched'));
    fake.ack(ack('d-1', 1n, 'final'));
    // In a block, but its device was skipped there.
    fake.ack(ack('d-1', 2n, 'final', 'DEVICE_INACTIVE'));
    fake.ack(ack('d-2', 3n, 'rejected', 'TELEMETRY_SKEW'));
    // Batched, and its final ack never comes.
    fake.ack(ack('d-2', 4n, 'accepted'));
    fake.ack(ack('d-2', 4n, 'batched'));
    // Not a reading this run sent.
    fake.ack(ack('d-2', 99n, 'final'));
    await until('the acks', () => acks.pending === 1);
    expect(acks.final).toBe(1);
    expect(acks.uncounted).toEqual({ DEVICE_INACTIVE: 1 });
    expect(acks.rejected).toEqual({ TELEMETRY_SKEW: 1 });
    expect(acks.highestFinalBlock).toBe(7);
    expect(acks.takeWindow()).toEqual({ p50: 400, p99: 400 });
    expect(acks.takeWindow()).toEqual({ p50: null, p99: null });

    // A minute on, the reading without a final ack is given up on; its ack, arriving after that, is not counted.
    clock = 1000 + 60_001;
    acks.sent('d-1', 5n);
    expect(acks.noFinalAck).toBe(1);
    clock += 250;
    fake.ack(ack('d-2', 4n, 'final'));
    fake.ack(ack('d-1', 5n, 'final'));
    await until('the last final ack', () => acks.pending === 0);
    expect(acks.final).toBe(2);
    expect(acks.takeWindow()).toEqual({ p50: 250, p99: 250 });
    expect(acks.runPercentiles()).toEqual({ p50: 400, p99: 400 });
    expect(acks.ended).toEqual({});
  });

  it('shows a subscription the node drops as a slow consumer, and subscribes again', async () => {
    const acks = tracker();
    await acks.subscribe([{ address, deviceIds: ['d-3'] }], 1);
    // One block's acks for the subscription, written in one go: more than the node queues for a subscriber.
    for (let i = 0; i < 300; i++) fake.ack(ack('d-3', BigInt(i), 'final'));
    await until('the drop', () => acks.ended.SLOW_CONSUMER === 1);
    await until('the subscription again', () => fake.listenerCount() === 1, 5000);
    clock = 5000;
    acks.sent('d-3', 1000n);
    clock = 5300;
    fake.ack(ack('d-3', 1000n, 'final'));
    await until('the final ack', () => acks.final === 1);
    expect(acks.ended).toEqual({ SLOW_CONSUMER: 1 });
    // Closing counts what is still in flight as without a final ack.
    acks.sent('d-3', 1001n);
    acks.close();
    expect(acks.noFinalAck).toBe(1);
  });

  it('fails with UNAVAILABLE, holding nothing open, when a node has no gRPC port', async () => {
    const acks = tracker();
    const dead = new Server();
    const port = await new Promise<number>((resolve, reject) =>
      dead.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e === null ? resolve(p) : reject(e))),
    );
    await new Promise<void>((resolve) => dead.tryShutdown(() => resolve()));
    await expect(
      acks.subscribe(
        [
          { address, deviceIds: ['d-4'] },
          { address: `127.0.0.1:${port}`, deviceIds: ['d-5'] },
        ],
        1,
      ),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await until('the reachable node unsubscribed', () => fake.listenerCount() === 0);
  });
});

describe('ackSubscriptions', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `d-${i}`);
  const sizes = (chunks: string[][]) => chunks.map((c) => c.length);

  it('names every device once, in subscriptions of about 50 readings a second, at most 1,000 devices and, where that allows, 64 subscriptions', () => {
    const fleet = ids(400);
    const chunks = ackSubscriptions(fleet, 1);
    expect(chunks.flat()).toEqual(fleet);
    expect(sizes(chunks)).toEqual(Array(8).fill(50));
    // Ten readings a second each: five devices a subscription.
    expect(sizes(ackSubscriptions(ids(20), 10))).toEqual([5, 5, 5, 5]);
    // Faster than 50 a second: one device each.
    expect(sizes(ackSubscriptions(ids(3), 80))).toEqual([1, 1, 1]);
    // Slow devices: the node's bound of 1,000 devices.
    expect(sizes(ackSubscriptions(ids(2500), 0.01))).toEqual([MAX_ACK_DEVICES, MAX_ACK_DEVICES, 500]);
    // Many fast devices: no more than 64 subscriptions.
    expect(ackSubscriptions(ids(10_000), 10)).toHaveLength(64);
  });
});
