import { readFileSync } from 'node:fs';
import type { PackageDefinition } from '@grpc/proto-loader';
import { addressFromPublicKey, formatAddress } from '../../core/keys.ts';
import { ErrorCode } from '../../core/errors.ts';
import { getDevice } from '../../state/devices.ts';
import { skippedDevices } from '../../core/telemetry.ts';
import { getMeterCursor } from '../../state/telemetry.ts';
import { getAccount } from '../../state/accounts.ts';
import type { Mempool } from '../../mempool/index.ts';
import type { Tx } from '../../core/tx.ts';
import { devicePackage } from '../../rpc/grpc/device-contract.ts';
import type { ReadingAck } from '../../rpc/node-api.ts';
import { deviceStreamService } from '../../rpc/grpc/device-stream.ts';
import type { GrpcMetrics } from '../../rpc/grpc/metrics.ts';
import { startGrpcServer, type GrpcService, type RunningGrpcServer } from '../../rpc/grpc/server.ts';
import type { Chain } from '../chain/chain.ts';
import type { NodeEvents } from '../events.ts';
import type { NodeConfig } from '../home/config.ts';
import { resolveIn } from '../home/config.ts';
import { parseKeyFile } from '../home/keys.ts';
import type { Logger } from '../log.ts';
import type { IngressMetrics } from '../metrics/grpc.ts';
import type { TxAdmission } from '../txs/admission.ts';
import { Aggregator } from './aggregator.ts';
import { DeviceIngress } from './ingress.ts';
import { BatchGate } from './batch-gate.ts';

export interface IngressParts {
  readonly home: string;
  readonly config: NodeConfig;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly admission: TxAdmission;
  readonly events: NodeEvents;
  readonly logger: Logger;
  readonly metrics: IngressMetrics;
  /** The port's own series: connections, calls by method and status, messages. */
  readonly grpcMetrics?: GrpcMetrics;
  readonly passphrase: string | undefined;
  /** Gossips a tx the ingress admitted. */
  readonly gossip: (tx: Tx) => void;
  /** Services besides the device stream (Joule's own, rpc/grpc/joule-services.ts), served with or without an aggregator. */
  readonly services?: readonly GrpcService[];
  /** Their packages, for server reflection (the device contract is always described). */
  readonly reflect?: readonly PackageDefinition[];
}

export interface RunningIngress {
  readonly server: RunningGrpcServer;
  readonly ingress: DeviceIngress | undefined;
  readonly aggregator: Aggregator | undefined;
  close(): Promise<void>;
}

/** The metric outcome of readings the aggregator dropped before batching. */
function droppedOutcome(code: ErrorCode): 'stale' | 'key_rotated' | 'device_changed' {
  if (code === ErrorCode.TELEMETRY_SKEW || code === ErrorCode.TELEMETRY_SETTLED) return 'stale';
  return code === ErrorCode.TELEMETRY_KEY_ROTATED ? 'key_rotated' : 'device_changed';
}

/**
 * The gRPC port and, when the config names an aggregator key, the device ingress behind it:
 * the aggregator and its batches' check (signatures, then order), acknowledgements on the node
 * event 'reading-acks', grid commands from 'command-issued' pushed to connected devices.
 */
export async function startIngress(p: IngressParts): Promise<RunningIngress> {
  const { config, chain, logger } = p;
  const unsubscribe: (() => void)[] = [];
  const acks = (a: readonly ReadingAck[]) => {
    const first = a[0];
    if (first === undefined) return;
    // The aggregator acknowledges one batch at a time (batched, or rejected as a whole when refused): one outcome per call.
    if (first.outcome === 'batched') p.metrics.batched('batched', a.length);
    if (first.outcome === 'final') {
      const uncounted = a.filter((r) => r.reason !== undefined).length;
      if (uncounted > 0) p.metrics.batched('uncounted', uncounted);
    }
    // A call's readings that were not rejected share one stage (the ingress acknowledges a submission, the aggregator a batch).
    const stage = a.find((r) => r.outcome !== 'rejected')?.outcome;
    if (stage !== undefined && stage !== 'rejected') {
      const nowUs = Date.now() * 1000;
      p.metrics.readingAges(
        stage,
        a.flatMap((r) => (r.outcome === stage ? [(nowUs - Number(r.timestampUs)) / 1e6] : [])),
      );
    }
    if (p.events.has('reading-acks')) p.events.emit('reading-acks', a);
  };
  let ingress: DeviceIngress | undefined;
  let aggregator: Aggregator | undefined;
  const services: GrpcService[] = [...(p.services ?? [])];
  if (config.ingress.aggregatorKey !== null) {
    const file = resolveIn(p.home, config.ingress.aggregatorKey);
    const key = await parseKeyFile(readFileSync(file, 'utf8'), file, 'ed25519', p.passphrase);
    const address = addressFromPublicKey(key.publicKey);
    const gate = new BatchGate({
      chainId: chain.genesis.chainId,
      service: chain.signatures.service,
      device: (id) => getDevice(chain.world, id),
      chainCursor: (id) => getMeterCursor(chain.world, id),
      settlementIntervalMs: () => chain.nextBlockContext().params.settlementIntervalMs,
      rate: { perSecond: config.grpc.readingsPerSecondPerDevice, burst: 2 * config.grpc.readingsPerSecondPerDevice },
      onChecked: (n, bad) => p.metrics.verified(n, bad),
    });
    const agg = new Aggregator(
      {
        chainId: chain.genesis.chainId,
        seed: key.secret,
        address,
        // The head's height, not the next: a validator one block behind still admits the gossiped batch.
        keyHeight: () => chain.height,
        maxTxBytes: () => chain.nextBlockContext().params.maxTxBytes,
        poolNonce: () => p.mempool.nextNonce(address, getAccount(chain.world, address).nonce),
        poolHolds: (nonce) => p.mempool.hasNonce(address, nonce),
        pending: (hash) => p.mempool.has(hash),
        device: (id) => getDevice(chain.world, id),
        params: () => chain.nextBlockContext().params,
        gate,
        submit: async (tx, verified) => {
          // The batch's readings were checked together under the keys it names (the gate):
          // its aggregate holds by construction, and admission does not pay a second pairing per reading.
          if (verified) chain.signatures.verifiedTxs.add(tx);
          await p.admission.submit(tx.bytes, 'ingress');
          p.gossip(tx);
        },
        acks,
        onDropped: (code, n) => p.metrics.batched(droppedOutcome(code), n),
        onError: (e, n) => {
          p.metrics.batched('failed', n);
          logger.warn({ err: e, readings: n }, 'telemetry batch refused by the mempool; its readings are lost');
        },
      },
      { maxReadings: config.ingress.maxBatchReadings, maxDelayMs: config.ingress.maxBatchDelayMs, fee: BigInt(config.ingress.batchFee) },
    );
    aggregator = agg;
    p.admission.ownNonces(agg);
    unsubscribe.push(
      p.events.on('tx-included', (t) => {
        if (t.tx.type === 20) agg.included(t.tx.hash, t.height, t.receipt.success ? undefined : t.receipt.code, skippedDevices(t.receipt.events));
      }),
    );
    const di = new DeviceIngress({
      chainId: chain.genesis.chainId,
      aggregator: address,
      device: (id) => getDevice(chain.world, id),
      keyHeight: () => chain.height,
      params: () => chain.nextBlockContext().params,
      gate,
      batcher: agg,
      acks,
    });
    ingress = di;
    unsubscribe.push(p.events.on('command-issued', (c) => di.command(c)));
    services.push({
      definition: devicePackage().service,
      implementation: deviceStreamService({
        ingress: di,
        metrics: p.metrics,
        limits: {
          readingsPerSecondPerDevice: config.grpc.readingsPerSecondPerDevice,
          burstPerDevice: 2 * config.grpc.readingsPerSecondPerDevice,
          readingsPerSecondPerConnection: config.grpc.readingsPerSecondPerConnection,
          burstPerConnection: 2 * config.grpc.readingsPerSecondPerConnection,
          proveWithinMs: config.grpc.proveStreamWithinMs,
          maxUnprovenStreams: config.grpc.maxUnprovenStreams,
          unprovenFailuresPerSecondPerAddress: config.grpc.unprovenFailuresPerSecondPerAddress,
          unprovenFailuresPerSecond: config.grpc.unprovenFailuresPerSecond,
          requireOperatorCertificate: config.grpc.tls?.clientCaFile != null,
        },
      }),
    });
    logger.info({ aggregator: formatAddress(address) }, 'device ingress: readings of devices this account operates are batched here');
  } else
    logger.warn(
      'device ingress off: no ingress.aggregatorKey in the config (the gRPC port serves joule.v1, health and reflection; ConnectDevice is UNIMPLEMENTED)',
    );
  const tls = config.grpc.tls;
  const server = await startGrpcServer({
    host: config.grpc.host,
    port: config.grpc.port,
    tls:
      tls === null
        ? undefined
        : {
            cert: readFileSync(resolveIn(p.home, tls.certFile)),
            key: readFileSync(resolveIn(p.home, tls.keyFile)),
            clientCa: tls.clientCaFile === null ? undefined : readFileSync(resolveIn(p.home, tls.clientCaFile)),
          },
    limits: {
      maxMessageBytes: config.grpc.maxMessageBytes,
      maxStreamsPerConnection: config.grpc.maxStreamsPerConnection,
      maxConnections: config.grpc.maxConnections,
      maxConnectionsPerAddress: config.grpc.maxConnectionsPerAddress,
      idleConnectionMs: config.grpc.idleConnectionMs,
    },
    services,
    reflect: [devicePackage().pkg, ...(p.reflect ?? [])],
    metrics: p.grpcMetrics,
  });
  return {
    server,
    ingress,
    aggregator,
    async close() {
      for (const u of unsubscribe.splice(0)) u();
      await server.close();
      aggregator?.stop();
    },
  };
}
