import { credentials, Metadata, Server, ServerCredentials, status, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import type { CommandFields } from '../../core/command.ts';
import type { DeviceRecord } from '../../core/device.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { formatAddress } from '../../core/keys.ts';
import { buildCommandAnchor, decodeCommandAnchorBody } from '../../core/tx/command-anchor.ts';
import { decodeTx } from '../../core/tx.ts';
import { CommandIssuer } from '../../node/commands/issuer.ts';
import type { NodeApi } from '../node-api.ts';
import { createFakeNode, FAKE_CHAIN_ID, makeTransfer, type FakeNode } from '../testing/fake-node.ts';
import { jouleServiceClient, type JouleServiceName } from './joule-proto.ts';
import { jouleGrpcServices } from './joule-services.ts';

/** Joule's gRPC services on a real grpc-js Server (loopback, plaintext), called by real grpc-js clients. */

let fake: FakeNode;
let server: Server;
let address: string;
const clients: Client[] = [];
const NOT_MINE = 'not-mine';

type Callable = Client & Record<string, (...args: unknown[]) => unknown>;

function client(name: JouleServiceName): Callable {
  const Ctor = jouleServiceClient(name);
  const c = new Ctor(address, credentials.createInsecure()) as unknown as Callable;
  clients.push(c);
  return c;
}

function call<T = Record<string, unknown>>(c: Callable, method: string, req: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    c[method]!(req, (err: ServiceError | null, res: T) => (err === null ? resolve(res) : reject(err)));
  });
}

async function statusOf(p: Promise<unknown>): Promise<{ code: number; joule: string | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = e as ServiceError;
    return { code: err.code, joule: err.metadata?.get('joule-error-code')[0] as string | undefined };
  }
  throw new Error('call succeeded');
}

const nowUs = () => BigInt(Date.now()) * 1000n;
const command = (over: Partial<CommandFields> = {}, nonce = 0) =>
  buildCommandAnchor({
    chainId: FAKE_CHAIN_ID,
    seed: fake.alice.seed,
    nonce,
    fee: 25n,
    type: 3,
    deviceIds: ['ev-1'],
    zone: undefined,
    powerLimitW: 3000,
    priceMicroPerKwh: 150_000n,
    validFromUs: nowUs(),
    validUntilUs: nowUs() + 60_000_000n,
    ...over,
  });

beforeAll(async () => {
  fake = createFakeNode();
  fake.commit([makeTransfer(fake.alice.seed, 0, new Uint8Array(20).fill(2), 5n)]);
  const ev: DeviceRecord = {
    id: 'ev-1',
    publicKey: new Uint8Array(48),
    owner: new Uint8Array(20).fill(9),
    operator: fake.alice.address,
    kind: 'ev-charger',
    zone: 'NL',
    maxImportW: 11_000,
    maxExportW: 11_000,
    carbonIntensity: 0,
    checkMeter: undefined,
    status: 'active',
    keyHistory: [{ key: new Uint8Array(48), fromHeight: 1 }],
  };
  fake.devices.set('ev-1', ev);
  // The node's real issuer; the fake's admission stands in for the VM's rules (the anchor's rules are tested in vm/commands).
  const issuer = new CommandIssuer({
    chainId: FAKE_CHAIN_ID,
    submit: async (bytes) => {
      const tx = decodeTx(bytes);
      if (decodeCommandAnchorBody(tx.body).deviceIds.includes(NOT_MINE))
        throw new JouleError(ErrorCode.TX_UNAUTHORIZED, 'does not operate device "not-mine"', 'tx.body.deviceIds[0]');
      await fake.submitTransaction(bytes);
      return tx;
    },
    announce: (c) => fake.announce(c),
  });
  const api: NodeApi = { ...fake, issueCommand: (b) => issuer.issue(b) };
  server = new Server();
  for (const s of jouleGrpcServices({ api, limits: { maxTxsPerStream: 8, maxQueuedMessages: 16, maxAckDevices: 4, maxSubscribersPerAddress: 3 } }))
    server.addService(s.definition, s.implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e === null ? resolve(p) : reject(e))),
  );
  address = `127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const c of clients) c.close();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
});

describe('TransactionService', () => {
  it('admits a tx and answers its hash; bad input gets INVALID_ARGUMENT with the Joule code', async () => {
    const tx = makeTransfer(fake.alice.seed, 1, new Uint8Array(20).fill(3), 7n);
    const c = client('TransactionService');
    const res = await call<{ hash: Buffer }>(c, 'SubmitTransaction', { tx: Buffer.from(tx.bytes) });
    expect(toHex(res.hash)).toBe(toHex(tx.hash));
    expect(await statusOf(call(c, 'SubmitTransaction', {}))).toEqual({ code: status.INVALID_ARGUMENT, joule: 'INVALID_PARAMS' });
    expect(await statusOf(call(c, 'SubmitTransaction', { tx: Buffer.from([1, 2, 3]) }))).toMatchObject({ code: status.INVALID_ARGUMENT });
    const other = decodeTx(makeTransfer(fake.alice.seed, 2, new Uint8Array(20), 1n).bytes);
    const wrongChain = Buffer.from(other.bytes);
    wrongChain[2] ^= 1; // a letter of the chain id
    expect(await statusOf(call(c, 'SubmitTransaction', { tx: wrongChain }))).toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('bulk: admits each tx of a client stream in order and lists the rejected by index', async () => {
    const c = client('TransactionService');
    const txs = [0, 1, 2].map((i) => makeTransfer(fake.alice.seed, 10 + i, new Uint8Array(20).fill(4), 1n));
    const res = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const stream = c.SubmitTransactions!((err: ServiceError | null, r: Record<string, unknown>) => (err === null ? resolve(r) : reject(err))) as {
        write(m: unknown): void;
        end(): void;
      };
      stream.write({ tx: Buffer.from(txs[0]!.bytes) });
      stream.write({ tx: Buffer.from([0xc1]) });
      stream.write({ tx: Buffer.from(txs[1]!.bytes) });
      stream.write({});
      stream.write({ tx: Buffer.from(txs[2]!.bytes) });
      stream.end();
    });
    expect(res).toMatchObject({ received: 5, accepted: 3 });
    expect((res.hashes as Buffer[]).map(toHex)).toEqual(txs.map((t) => toHex(t.hash)));
    expect((res.rejected as { index: number; code: string }[]).map((r) => [r.index, r.code])).toEqual([
      [1, 'CODEC_NON_CANONICAL'],
      [3, 'INVALID_PARAMS'],
    ]);
  });

  it('bulk: a stream beyond its bound gets RESOURCE_EXHAUSTED', async () => {
    const c = client('TransactionService');
    const err = await new Promise<ServiceError>((resolve) => {
      const stream = c.SubmitTransactions!((e: ServiceError | null) => resolve(e!)) as { write(m: unknown): void; end(): void };
      for (let i = 0; i < 9; i++) stream.write({ tx: Buffer.from(makeTransfer(fake.alice.seed, 100 + i, new Uint8Array(20), 1n).bytes) });
      stream.end();
    });
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
  });
});

describe('QueryService', () => {
  it('serves blocks, txs, accounts, devices and proofs; NOT_FOUND, INVALID_ARGUMENT and UNAVAILABLE as due', async () => {
    const c = client('QueryService');
    const latest = await call<{ height: string; hash: Buffer; tx_hashes: Buffer[] }>(c, 'GetBlock', { latest: true });
    expect(latest.height).toBe(String(fake.blocks.length - 1));
    const byHash = await call<{ height: string }>(c, 'GetBlock', { hash: latest.hash });
    expect(byHash.height).toBe(latest.height);
    expect((await call<{ height: string }>(c, 'GetBlock', { height: 0 })).height).toBe('0');
    expect((await statusOf(call(c, 'GetBlock', { height: 999 }))).code).toBe(status.NOT_FOUND);
    expect((await statusOf(call(c, 'GetBlock', { hash: Buffer.alloc(5) }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await statusOf(call(c, 'GetBlock', {}))).code).toBe(status.INVALID_ARGUMENT);

    const tx = await call<{ hash: Buffer; type_name: string; height: string; receipt: { success: boolean } }>(c, 'GetTransaction', {
      hash: latest.tx_hashes[0],
    });
    expect(tx).toMatchObject({ type_name: 'transfer', height: latest.height, receipt: { success: true } });
    expect((await statusOf(call(c, 'GetTransaction', { hash: Buffer.alloc(32) }))).code).toBe(status.NOT_FOUND);

    const account = await call<{ address: string; nonce: string }>(c, 'GetAccount', { address: formatAddress(fake.alice.address) });
    expect(account.address).toBe(formatAddress(fake.alice.address));
    expect(await statusOf(call(c, 'GetAccount', { address: 'joule1nope' }))).toMatchObject({ code: status.INVALID_ARGUMENT, joule: 'INVALID_PARAMS' });

    expect((await call<{ id: string; zone: string }>(c, 'GetDevice', { id: 'ev-1' })).zone).toBe('NL');
    expect((await statusOf(call(c, 'GetDevice', { id: 'ev-9' }))).code).toBe(status.NOT_FOUND);
    expect((await statusOf(call(c, 'GetDevice', { id: 'bad id' }))).code).toBe(status.INVALID_ARGUMENT);

    const proof = await call<{ present: boolean; proof: Buffer }>(c, 'GetProof', { key: Buffer.concat([Buffer.from([1]), Buffer.alloc(20)]) });
    expect(proof.proof.length).toBe(32);
    expect((await statusOf(call(c, 'GetProof', { key: Buffer.alloc(0) }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await statusOf(call(c, 'GetProof', { key: Buffer.alloc(4), height: 999 }))).code).toBe(status.NOT_FOUND);

    // The fake serves no energy tokens: a node without them answers UNAVAILABLE.
    expect((await statusOf(call(c, 'GetEnergyUtxo', { id: Buffer.alloc(32) }))).code).toBe(status.UNAVAILABLE);
    expect((await statusOf(call(c, 'ListCertificates', { zone: 'NL' }))).code).toBe(status.UNAVAILABLE);
  });
});

/** The next `n` messages of a server stream (rejects on its error). */
function take<T>(stream: ClientReadableStream<T>, n: number, timeoutMs: number): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const got: T[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${n} messages within ${timeoutMs} ms`)), timeoutMs);
    const onData = (m: T) => {
      got.push(m);
      if (got.length === n) {
        clearTimeout(timer);
        stream.off('data', onData);
        resolve(got);
      }
    };
    stream.on('data', onData);
    stream.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
};

describe('EventService', () => {
  it('streams finalized blocks, and stops listening when the client cancels', async () => {
    const c = client('EventService');
    const stream = c.Subscribe!({ blocks: true }) as ClientReadableStream<{ event: string; block: { height: string } }>;
    stream.on('error', () => {});
    await until(() => fake.listenerCount() === 1);
    const next = take(stream, 1, 5000);
    const sb = fake.commit([]);
    const [m] = await next;
    expect(m).toMatchObject({ event: 'block', block: { height: String(sb.block.header.height) } });
    stream.cancel();
    await until(() => fake.listenerCount() === 0);
  });

  it('refuses a subscription to nothing', async () => {
    const stream = client('EventService').Subscribe!({}) as ClientReadableStream<unknown>;
    const err = await new Promise<ServiceError>((resolve) => stream.on('error', resolve));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
  });

  it('drops a subscriber that stops reading (RESOURCE_EXHAUSTED) instead of queueing without bound', async () => {
    const c = client('EventService');
    const stream = c.Subscribe!({ commands: true }) as ClientReadableStream<unknown>;
    const ended = new Promise<ServiceError>((resolve) => stream.on('error', resolve));
    await until(() => fake.listenerCount() === 1);
    stream.pause();
    const big = {
      commandId: 'x',
      type: 3 as const,
      powerLimitW: 1,
      priceMicroPerKwh: 1n,
      validUntilUs: 1n,
      commandHash: new Uint8Array(32),
      issuer: new Uint8Array(20),
    };
    // Each message about 64 KiB: the connection's flow-control window fills, the server's queue grows past its bound.
    const deviceIds = Array.from({ length: 1000 }, (_, i) => `device-${String(i).padStart(56, '0')}`);
    for (let i = 0; i < 200 && fake.listenerCount() > 0; i++) {
      fake.announce({ ...big, deviceIds });
      await new Promise((r) => setImmediate(r));
    }
    expect(fake.listenerCount()).toBe(0);
    stream.resume();
    expect((await ended).code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it('one address holds at most maxSubscribersPerAddress subscriptions (RESOURCE_EXHAUSTED, RATE_LIMITED beyond); one ended makes room', async () => {
    const c = client('EventService');
    /** A block subscription, once it has had a block: then the server holds it. */
    const subscribed = async () => {
      const s = c.Subscribe!({ blocks: true }) as ClientReadableStream<unknown>;
      let got = false;
      let failed: unknown;
      s.on('data', () => (got = true));
      s.on('error', (e) => (failed = e));
      for (let i = 0; i < 250 && !got && failed === undefined; i++) {
        fake.commit([]);
        await new Promise((r) => setTimeout(r, 20));
      }
      if (!got) throw failed ?? new Error('no block within 5 s');
      return s;
    };
    const held = [await subscribed(), await subscribed(), await subscribed()];
    const fourth = c.Subscribe!({ blocks: true }) as ClientReadableStream<unknown>;
    const refused = await new Promise<ServiceError>((resolve) => fourth.on('error', resolve));
    expect([refused.code, refused.metadata.get('joule-error-code')[0]]).toEqual([status.RESOURCE_EXHAUSTED, 'RATE_LIMITED']);
    // Another kind has its own places.
    const acks = c.SubscribeReadingAcks!({ device_ids: ['m-1'] }) as ClientReadableStream<Record<string, unknown>>;
    acks.on('error', () => {});
    const ack = take(acks, 1, 5000);
    await until(() => fake.listenerCount() === 2);
    fake.ack({ deviceId: 'm-1', timestampUs: 1n, outcome: 'accepted' });
    expect((await ack)[0]).toMatchObject({ device_id: 'm-1' });
    acks.cancel();
    held[0]!.cancel();
    // The server sees the cancel a moment later; until then it may still refuse.
    let again: ClientReadableStream<unknown> | undefined;
    for (let i = 0; i < 50 && again === undefined; i++) again = await subscribed().catch(() => undefined);
    expect(again).toBeDefined();
    for (const s of [...held, again!]) s.cancel();
    await until(() => fake.listenerCount() === 0);
  });

  it("queues an acknowledgement subscriber's messages in proportion to the devices it names", async () => {
    const c = client('EventService');
    // 16 messages and 4 per device: 32 for 4 devices, 20 for 1.
    const four = c.SubscribeReadingAcks!({ device_ids: ['q-1', 'q-2', 'q-3', 'q-4'] }) as ClientReadableStream<unknown>;
    const one = c.SubscribeReadingAcks!({ device_ids: ['q-1'] }) as ClientReadableStream<unknown>;
    const errors: ServiceError[] = [];
    for (const s of [four, one]) s.on('error', (e: ServiceError) => errors.push(e));
    await until(() => fake.listenerCount() === 1);
    const got: unknown[] = [];
    four.on('data', (m) => got.push(m));
    // One block's final acks at once: 30 for device q-1.
    for (let i = 0; i < 30; i++) fake.ack({ deviceId: 'q-1', timestampUs: BigInt(i + 1), outcome: 'final', txHash: new Uint8Array(32), height: 3 });
    await until(() => got.length === 30 && errors.length === 1);
    expect(errors[0]!.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(errors[0]!.details).toMatch(/SLOW_CONSUMER: more than 20 messages/);
    four.cancel();
    await until(() => fake.listenerCount() === 0);
  });

  it('acknowledges readings of the named devices only; bad requests get INVALID_ARGUMENT', async () => {
    const c = client('EventService');
    const stream = c.SubscribeReadingAcks!({ device_ids: ['m-1'] }) as ClientReadableStream<Record<string, unknown>>;
    stream.on('error', () => {});
    await until(() => fake.listenerCount() === 1);
    const next = take(stream, 2, 5000);
    fake.ack({ deviceId: 'm-2', timestampUs: 1n, outcome: 'accepted' });
    fake.ack({ deviceId: 'm-1', timestampUs: 2n, outcome: 'rejected', reason: 'TX_BAD_SIGNATURE' });
    fake.ack({ deviceId: 'm-1', timestampUs: 3n, outcome: 'final', txHash: new Uint8Array(32).fill(1), height: 9 });
    const [a, b] = await next;
    expect(a).toMatchObject({ device_id: 'm-1', timestamp_us: '2', outcome: 'REJECTED', reason: 'TX_BAD_SIGNATURE' });
    expect(b).toMatchObject({ device_id: 'm-1', timestamp_us: '3', outcome: 'FINAL', height: '9' });
    stream.cancel();
    await until(() => fake.listenerCount() === 0);
    // Only the outcomes asked for.
    const finals = c.SubscribeReadingAcks!({ device_ids: ['m-1'], outcomes: ['FINAL'] }) as ClientReadableStream<Record<string, unknown>>;
    finals.on('error', () => {});
    await until(() => fake.listenerCount() === 1);
    const only = take(finals, 1, 5000);
    fake.ack({ deviceId: 'm-1', timestampUs: 4n, outcome: 'accepted' });
    fake.ack({ deviceId: 'm-1', timestampUs: 4n, outcome: 'batched', txHash: new Uint8Array(32).fill(2) });
    fake.ack({ deviceId: 'm-1', timestampUs: 4n, outcome: 'final', txHash: new Uint8Array(32).fill(2), height: 10 });
    expect((await only)[0]).toMatchObject({ timestamp_us: '4', outcome: 'FINAL', height: '10' });
    finals.cancel();
    await until(() => fake.listenerCount() === 0);
    for (const ids of [[], ['bad id'], ['a', 'b', 'c', 'd', 'e']]) {
      const s = c.SubscribeReadingAcks!({ device_ids: ids }) as ClientReadableStream<unknown>;
      expect((await new Promise<ServiceError>((resolve) => s.on('error', resolve))).code, JSON.stringify(ids)).toBe(status.INVALID_ARGUMENT);
    }
  });
});

describe('CommandService', () => {
  it("a command issued while a device's stream listens arrives within one second; an expired one never does", async () => {
    const events = client('EventService');
    const stream = events.Subscribe!({ commands: true }) as ClientReadableStream<{
      command: { command_id: string; device_ids: string[]; valid_until_us: string };
    }>;
    stream.on('error', () => {});
    await until(() => fake.listenerCount() === 1);
    const commands = client('CommandService');
    const expired = command({ validFromUs: nowUs() - 2_000_000n, validUntilUs: nowUs() - 1_000_000n }, 1);
    expect(await statusOf(call(commands, 'IssueCommand', { tx: Buffer.from(expired.bytes) }))).toEqual({
      code: status.FAILED_PRECONDITION,
      joule: 'COMMAND_EXPIRED',
    });
    const first = take(stream, 1, 1000);
    const live = command({}, 2);
    const issued = await call<{ command: { command_id: string }; tx_hash: Buffer }>(commands, 'IssueCommand', { tx: Buffer.from(live.bytes) });
    expect(toHex(issued.tx_hash)).toBe(toHex(live.hash));
    // Within one second, and the first delivered is the live one: the expired command never reached the stream.
    const [m] = await first;
    expect(m!.command).toMatchObject({ command_id: issued.command.command_id, device_ids: ['ev-1'] });
    stream.cancel();
    await until(() => fake.listenerCount() === 0);
  });

  it('refuses a target the dso does not operate (PERMISSION_DENIED), another tx type and garbage (INVALID_ARGUMENT)', async () => {
    const c = client('CommandService');
    expect(await statusOf(call(c, 'IssueCommand', { tx: Buffer.from(command({ deviceIds: [NOT_MINE] }, 3).bytes) }))).toEqual({
      code: status.PERMISSION_DENIED,
      joule: 'TX_UNAUTHORIZED',
    });
    expect(await statusOf(call(c, 'IssueCommand', { tx: Buffer.from(makeTransfer(fake.alice.seed, 4, new Uint8Array(20), 1n).bytes) }))).toEqual({
      code: status.INVALID_ARGUMENT,
      joule: 'TX_INVALID_FIELD',
    });
    expect((await statusOf(call(c, 'IssueCommand', { tx: Buffer.from([0xff, 0x00]) }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await statusOf(call(c, 'IssueCommand', {}))).code).toBe(status.INVALID_ARGUMENT);
  });

  it('a malformed request message gets a status, never a crash', async () => {
    const c = client('QueryService');
    // Raw bytes that are not a GetBlockRequest: a field 1 of wire type 7 (invalid).
    const raw = await new Promise<ServiceError | null>((resolve) => {
      c.makeUnaryRequest(
        '/joule.v1.QueryService/GetBlock',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from([0x0f, 0xff, 0xff]),
        new Metadata(),
        {},
        (err) => resolve(err),
      );
    });
    expect(raw?.code).toBe(status.INTERNAL);
    // The server still answers.
    expect((await call<{ height: string }>(c, 'GetBlock', { height: 0 })).height).toBe('0');
  });
});
