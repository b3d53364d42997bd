import { fileURLToPath } from 'node:url';
import {
  credentials,
  loadPackageDefinition,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import { addressFromPublicKey, formatAddress } from '../core/keys.ts';
import { buildDeviceRegister } from '../core/tx/device-register.ts';
import { buildTransfer } from '../core/tx/transfer.ts';
import type { Tx } from '../core/tx.ts';
import { fleetDevice, fleetRegistration, signReading } from '../cli/fleet.ts';
import { jouleServiceClient, type JouleServiceName } from '../rpc/grpc/joule-proto.ts';
import { reflectionClient } from '../rpc/testing/reflection-client.ts';
import { createTestNetwork, NodeProcess, stopTestNetworks } from './helpers/cluster.ts';
import { waitFor } from './helpers/net.ts';

/**
 * Joule's own gRPC services (joule.v1) on a real node process, on the same port as the
 * device stream (reflection lists both): a query, a tx submitted over gRPC that becomes final, a finalized block on
 * the event stream, and a reading streamed by a contract-only device client acknowledged
 * on the acknowledgement stream until it is final.
 */

const CONTRACT = fileURLToPath(new URL('../proto/energysettlement/v1/device.proto', import.meta.url));

type Callable = Client & Record<string, (...args: unknown[]) => unknown>;
type Ack = { device_id: string; timestamp_us: string; outcome: string; reason: string; tx_hash: Buffer; height: string };

describe('joule.v1 over gRPC on a running node', () => {
  const procs: NodeProcess[] = [];
  const clients: Client[] = [];
  afterAll(async () => {
    for (const c of clients) c.close();
    await stopTestNetworks(procs);
  });

  it('answers queries, admits a tx that becomes final, streams a finalized block and acknowledges a reading', async () => {
    const net = await createTestNetwork({ validators: 1, accounts: 1, params: { blockPeriodMs: 200, emptyBlockPeriodMs: 200 } });
    const node = new NodeProcess(net.nodes[0]!);
    procs.push(node);
    await node.start(60_000);
    const address = `127.0.0.1:${net.nodes[0]!.ports.grpc}`;
    const chainId = net.devnet.genesis.chainId;
    const client = (name: JouleServiceName): Callable => {
      const c = new (jouleServiceClient(name))(address, credentials.createInsecure()) as unknown as Callable;
      clients.push(c);
      return c;
    };
    const call = <T>(c: Callable, method: string, req: unknown) =>
      new Promise<T>((resolve, reject) => c[method]!(req, (e: ServiceError | null, r: T) => (e === null ? resolve(r) : reject(e))));
    const query = client('QueryService');
    const submitter = client('TransactionService');
    const events = client('EventService');
    /** Submits over gRPC, then polls GetTransaction until the tx is in a finalized block. */
    const final = async (tx: Tx) => {
      const res = await call<{ hash: Buffer }>(submitter, 'SubmitTransaction', { tx: Buffer.from(tx.bytes) });
      expect(toHex(res.hash)).toBe(toHex(tx.hash));
      return waitFor(`tx ${toHex(tx.hash)} final`, () =>
        call<{ height: string; receipt: { success: boolean; code: string } }>(query, 'GetTransaction', { hash: res.hash }),
      );
    };

    // One port: reflection lists both packages.
    const reflection = reflectionClient(address);
    clients.push(reflection.client);
    expect(await reflection.listServices()).toEqual(
      expect.arrayContaining(['energysettlement.v1.EnergyDeviceStream', 'joule.v1.QueryService', 'joule.v1.TransactionService', 'joule.v1.EventService']),
    );

    // A query.
    const account = net.devnet.accountKeys[0]!.keyPair;
    const genesis = await call<{ height: string }>(query, 'GetBlock', { height: 0 });
    expect(genesis.height).toBe('0');

    // A finalized block on the event stream.
    const blocks = events.Subscribe!({ blocks: true }) as ClientReadableStream<{ event: string; block: { height: string; hash: Buffer } }>;
    const streamed = await new Promise<{ event: string; block: { height: string; hash: Buffer } }>((resolve, reject) => {
      blocks.once('data', resolve);
      blocks.once('error', reject);
    });
    blocks.cancel();
    blocks.on('error', () => {});
    expect(streamed.event).toBe('block');
    const same = await call<{ hash: Buffer }>(query, 'GetBlock', { height: streamed.block.height });
    expect(toHex(same.hash)).toBe(toHex(streamed.block.hash));

    // A transfer submitted over gRPC becomes final.
    const to = new Uint8Array(20).fill(7);
    const transfer = await final(buildTransfer({ chainId, seed: account.seed, nonce: 0, fee: 25n, to, amount: 5n }));
    expect(transfer.receipt.success, JSON.stringify(transfer.receipt)).toBe(true);
    const recipient = await call<{ balance: string }>(query, 'GetAccount', { address: formatAddress(to) });
    expect(recipient.balance).toBe('5');

    // A device the node's aggregator operates, registered over gRPC too.
    const agg = net.devnet.aggregatorKeys[0]!.keyPair;
    const d = fleetDevice('grpc-services-test', 'dev', 0);
    const reg = await final(
      buildDeviceRegister({
        chainId,
        seed: agg.seed,
        nonce: 0,
        fee: 25n,
        device: fleetRegistration(d, chainId, { owner: addressFromPublicKey(account.publicKey), kind: 'solar', zone: 'T', maxW: 10_000 }),
      }),
    );
    expect(reg.receipt.success, JSON.stringify(reg.receipt)).toBe(true);
    expect((await call<{ id: string }>(query, 'GetDevice', { id: d.id })).id).toBe(d.id);
    // The device's key signs from the block after its registration.
    await waitFor('a block after the registration', async () => {
      const head = await call<{ height: string }>(query, 'GetBlock', { latest: true });
      return BigInt(head.height) > BigInt(reg.height) ? true : undefined;
    });

    // Its reading, streamed by a client built from the contract file alone, acknowledged until final.
    const acks = events.SubscribeReadingAcks!({ device_ids: [d.id] }) as ClientReadableStream<Ack>;
    const got: Ack[] = [];
    acks.on('data', (a: Ack) => got.push(a));
    acks.on('error', () => {});
    const pkg = loadSync(CONTRACT, { keepCase: true, longs: String, enums: Number, bytes: Buffer, defaults: true });
    const Device = (loadPackageDefinition(pkg) as unknown as { energysettlement: { v1: { EnergyDeviceStream: ServiceClientConstructor } } }).energysettlement.v1
      .EnergyDeviceStream;
    const device = new Device(address, credentials.createInsecure());
    clients.push(device);
    const stream = (device as unknown as { ConnectDevice(): ClientDuplexStream<unknown, unknown> }).ConnectDevice();
    stream.on('data', () => {});
    stream.on('error', () => {});
    // The acknowledgement subscription is live once the server has it; a reading sent before would be missed.
    await new Promise((r) => setTimeout(r, 300));
    const ts = BigInt(Date.now()) * 1000n;
    const r = signReading(d, chainId, { deviceId: d.id, timestampUs: ts, netEnergyWh: -3n, stateOfChargePercent: 0 });
    stream.write({ device_id: d.id, timestamp_us: ts.toString(), net_energy_wh: '-3', state_of_charge_percent: 0, signature: Buffer.from(r.signature) });
    const finalAck = await waitFor('the reading final', () => got.find((a) => a.outcome === 'FINAL'), 30_000);
    stream.end();
    acks.cancel();
    expect(got.map((a) => a.outcome)).toEqual(['ACCEPTED', 'BATCHED', 'FINAL']);
    expect(got.every((a) => a.device_id === d.id && a.timestamp_us === ts.toString())).toBe(true);
    // The batch it names is a final telemetry batch carrying the reading.
    const batch = await call<{ type_name: string; height: string; receipt: { success: boolean } }>(query, 'GetTransaction', { hash: finalAck.tx_hash });
    expect(batch).toMatchObject({ type_name: 'telemetry-batch', height: finalAck.height, receipt: { success: true } });

    // The port's calls are counted by method and status.
    const metrics = (await (await fetch(`${net.nodes[0]!.metricsUrl}/metrics`)).text()).split('\n');
    const series = (name: string, ...labels: string[]) => metrics.find((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)));
    expect(series('joule_grpc_server_handled_total', 'method="GetBlock"', 'code="OK"', 'service="joule.v1.QueryService"')).toMatch(/ [1-9]\d*$/);
    expect(series('joule_grpc_server_handled_total', 'method="GetTransaction"', 'code="NOT_FOUND"')).toMatch(/ [1-9]\d*$/);
    expect(series('joule_grpc_server_msg_received_total', 'method="ConnectDevice"')).toMatch(/ 1$/);
    expect(series('joule_grpc_connections')).toMatch(/ [1-9]\d*$/);
  }, 120_000);
});
