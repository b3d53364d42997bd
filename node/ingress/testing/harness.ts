import {
  credentials,
  loadPackageDefinition,
  type ChannelCredentials,
  type ClientDuplexStream,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { DeviceRecord } from '../../../core/device.ts';
import { addressFromPublicKey, blsGenerate, blsSign, ed25519Generate, type BlsKeyPair } from '../../../core/keys.ts';
import { DEVNET_PARAMS } from '../../../core/params.ts';
import { telemetrySigningBytes } from '../../../core/telemetry.ts';
import type { Tx } from '../../../core/tx.ts';
import { DEVICE_PROTO_FILE, devicePackage } from '../../../rpc/grpc/device-contract.ts';
import type { ReadingAck } from '../../../rpc/node-api.ts';
import { type DeviceStreamLimits, deviceStreamService } from '../../../rpc/grpc/device-stream.ts';
import { type GrpcLimits, type GrpcTls, startGrpcServer, type RunningGrpcServer } from '../../../rpc/grpc/server.ts';
import { SameThreadVerifier } from '../../verify/same-thread.ts';
import { Aggregator } from '../aggregator.ts';
import { DeviceIngress } from '../ingress.ts';
import { BatchGate } from '../batch-gate.ts';
import { testDeviceRecord } from './device-record.ts';

/**
 * A real gRPC server with the device stream over a real DeviceIngress (its batches'
 * gate verifying signatures on the same thread, an in-memory device registry, an aggregator whose txs are
 * collected instead of admitted), and real grpc-js device clients built from the contract
 * .proto alone. For the ingress's end-to-end tests.
 */

export const CHAIN_ID = 'joule-test';

export interface TestDevice {
  readonly id: string;
  readonly key: BlsKeyPair;
}

export interface Harness {
  readonly server: RunningGrpcServer;
  readonly ingress: DeviceIngress;
  readonly aggregator: Aggregator;
  readonly acks: ReadingAck[];
  readonly txs: Tx[];
  readonly aggregatorAddress: Uint8Array;
  readonly devices: Map<string, DeviceRecord>;
  addDevice(id: string, opts?: Partial<DeviceRecord>): TestDevice;
  close(): Promise<void>;
}

export async function startHarness(
  opts: {
    limits?: Partial<DeviceStreamLimits>;
    server?: Partial<GrpcLimits>;
    maxBatchDelayMs?: number;
    tls?: GrpcTls;
    /** Readings accepted per device over all its streams (BatchGateDeps.rate). */
    rate?: { perSecond: number; burst: number };
  } = {},
): Promise<Harness> {
  const seed = ed25519Generate().seed;
  const aggregatorAddress = addressFromPublicKey(ed25519Generate().publicKey);
  const devices = new Map<string, DeviceRecord>();
  const acks: ReadingAck[] = [];
  const txs: Tx[] = [];
  let nonce = 0;
  const gate = new BatchGate({
    chainId: CHAIN_ID,
    service: new SameThreadVerifier(),
    device: (id) => devices.get(id),
    chainCursor: () => undefined,
    settlementIntervalMs: () => DEVNET_PARAMS.settlementIntervalMs,
    ...(opts.rate === undefined ? {} : { rate: opts.rate }),
  });
  const aggregator = new Aggregator(
    {
      chainId: CHAIN_ID,
      seed,
      address: aggregatorAddress,
      keyHeight: () => 2,
      maxTxBytes: () => DEVNET_PARAMS.maxTxBytes,
      poolNonce: () => nonce,
      poolHolds: (n) => n < nonce,
      pending: () => false,
      device: (id) => devices.get(id),
      params: () => DEVNET_PARAMS,
      submit: async (tx) => {
        txs.push(tx);
        nonce = tx.nonce + 1;
      },
      acks: (a) => acks.push(...a),
      gate,
    },
    { maxDelayMs: opts.maxBatchDelayMs ?? 20 },
  );
  const ingress = new DeviceIngress({
    chainId: CHAIN_ID,
    aggregator: aggregatorAddress,
    device: (id) => devices.get(id),
    keyHeight: () => 2,
    params: () => DEVNET_PARAMS,
    gate,
    batcher: aggregator,
    acks: (a) => acks.push(...a),
  });
  const server = await startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    limits: opts.server,
    tls: opts.tls,
    services: [{ definition: devicePackage().service, implementation: deviceStreamService({ ingress, limits: opts.limits }) }],
    reflect: [devicePackage().pkg],
  });
  return {
    server,
    ingress,
    aggregator,
    acks,
    txs,
    aggregatorAddress,
    devices,
    addDevice(id, over = {}) {
      const key = blsGenerate();
      devices.set(id, testDeviceRecord(id, key.publicKey, aggregatorAddress, over));
      return { id, key };
    },
    async close() {
      await server.close(100);
      aggregator.stop();
    },
  };
}

/** A device's client, built from the contract .proto file alone (no Joule code). */
export function contractClient(
  address: string,
  options: Record<string, unknown> = {},
  channel: ChannelCredentials = credentials.createInsecure(),
): InstanceType<ServiceClientConstructor> {
  const pkg = loadSync(DEVICE_PROTO_FILE, { keepCase: true, longs: String, enums: Number, bytes: Buffer, defaults: true });
  const Ctor = (loadPackageDefinition(pkg) as unknown as { energysettlement: { v1: { EnergyDeviceStream: ServiceClientConstructor } } }).energysettlement.v1
    .EnergyDeviceStream;
  return new Ctor(address, channel, { 'grpc.use_local_subchannel_pool': 1, ...options });
}

export type DeviceCall = ClientDuplexStream<Record<string, unknown>, Record<string, unknown>>;

export function connect(client: InstanceType<ServiceClientConstructor>): DeviceCall {
  const call = (client as unknown as { ConnectDevice(): DeviceCall }).ConnectDevice();
  call.on('error', () => {}); // a test reads the status it expects through ended()
  return call;
}

/** A signed reading message as a device sends it; `tamper` signs other bytes than it sends. */
export function readingMessage(d: TestDevice, timestampUs: bigint, netEnergyWh: bigint, tamper = false): Record<string, unknown> {
  const signature = blsSign(d.key.secretKey, telemetrySigningBytes(CHAIN_ID, d.id, timestampUs, tamper ? netEnergyWh + 1n : netEnergyWh));
  return { device_id: d.id, timestamp_us: timestampUs.toString(), net_energy_wh: netEnergyWh.toString(), state_of_charge_percent: 40, signature };
}

/** Resolves with the status the call ended with (OK: code 0). */
export function ended(call: DeviceCall): Promise<{ code: number; details: string }> {
  return new Promise((resolve) => {
    call.on('error', (e: ServiceError) => resolve({ code: e.code, details: e.details }));
    call.on('status', (s: { code: number; details: string }) => {
      if (s.code === 0) resolve(s);
    });
    call.on('data', () => {});
  });
}
