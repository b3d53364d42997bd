import { toHex } from '../core/bytes.ts';
import type { CommitCertificate } from '../core/block.ts';
import { addressFromPublicKey, formatAddress } from '../core/keys.ts';
import { genesisHash, loadGenesis } from '../genesis/index.ts';
import { Mempool } from '../mempool/index.ts';
import { startRpcServer } from '../rpc/http-server.ts';
import { createMetrics, recordBlock, startMetricsServer, type JouleMetrics } from '../rpc/metrics.ts';
import type { HealthReport, NodeStatus } from '../rpc/node-api.ts';
import { getAccount } from '../state/accounts.ts';
import { TxAdmission } from './admission.ts';
import { createNodeApi } from './api.ts';
import type { BuildOutput } from './block-builder.ts';
import { Chain } from './chain.ts';
import { loadConfig, resolveIn, type NodeConfig } from './config.ts';
import { NodeEvents } from './events.ts';
import { loadNodeKeys, readPassphrase, type NodeKeys } from './keys.ts';
import { createLogger, type Logger } from './log.ts';
import { SoloProducer } from './solo-producer.ts';

export interface StartOptions {
  readonly home: string;
  readonly passphraseFile?: string | undefined;
  readonly logger?: Logger | undefined;
}

interface Closable {
  close(): Promise<void>;
}

/**
 * The composition root of one node: chain, mempool, producer, RPC and metrics servers.
 * `stop()` drains the block in flight before closing the store, so a clean shutdown loses
 * nothing; a crash loses nothing final either (see Chain.commit).
 */
export class JouleNode {
  readonly config: NodeConfig;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly metrics: JouleMetrics;
  readonly events: NodeEvents;
  readonly logger: Logger;
  readonly address: Uint8Array;
  private readonly admission: TxAdmission;
  private readonly servers: Closable[] = [];
  private producer: SoloProducer | undefined;
  private lastCommitAt = Date.now();
  rpcPort = 0;
  metricsPort = 0;

  private constructor(config: NodeConfig, chain: Chain, keys: NodeKeys, logger: Logger) {
    this.config = config;
    this.chain = chain;
    this.logger = logger;
    this.address = addressFromPublicKey(keys.identity.publicKey);
    this.metrics = createMetrics({ labels: { node: config.name } });
    this.mempool = new Mempool(config.mempool);
    this.admission = new TxAdmission(chain, this.mempool, this.metrics);
    this.events = new NodeEvents((e) => logger.error({ err: e }, 'block listener failed'));
    this.keys = keys;
  }

  private readonly keys: NodeKeys;

  static async start(opts: StartOptions): Promise<JouleNode> {
    const config = loadConfig(opts.home);
    const logger = opts.logger ?? createLogger({ name: config.name, level: config.log.level, destination: config.log.file === null ? undefined : resolveIn(opts.home, config.log.file) });
    const genesis = loadGenesis(resolveIn(opts.home, config.genesis));
    const keys = await loadNodeKeys(resolveIn(opts.home, config.identityKey), resolveIn(opts.home, config.consensusKey), readPassphrase(opts.passphraseFile));
    if (keys.insecure) logger.warn('running with INSECURE devnet keys (stored unencrypted): never do this on a real chain');
    const hash = genesisHash(genesis);
    const chain = await Chain.open(resolveIn(opts.home, config.dataDir), genesis, hash);
    const node = new JouleNode(config, chain, keys, logger);
    try {
      await node.startServices();
    } catch (e) {
      await node.stop();
      throw e;
    }
    return node;
  }

  private async startServices(): Promise<void> {
    const { config, chain, logger } = this;
    this.metrics.chainHeight.set(chain.height);
    const api = createNodeApi({ chain, admission: this.admission, events: this.events, status: () => this.status() });
    const rpc = await startRpcServer({ host: config.rpc.host, port: config.rpc.port, api, metrics: this.metrics, logger: logger.child({ part: 'rpc' }), health: () => this.health() });
    this.servers.push(rpc);
    this.rpcPort = rpc.port;
    const metrics = await startMetricsServer({ host: config.metrics.host, port: config.metrics.port, metrics: this.metrics, health: () => this.health(), logger: logger.child({ part: 'metrics' }) });
    this.servers.push(metrics);
    this.metricsPort = metrics.port;
    logger.info(
      { chainId: chain.genesis.chainId, height: chain.height, head: toHex(chain.head.hash), address: formatAddress(this.address), rpc: `http://${config.rpc.host}:${rpc.port}`, metrics: `http://${config.metrics.host}:${metrics.port}/metrics` },
      'node started',
    );
    if (config.role === 'validator' && chain.validators.has(this.address)) {
      this.producer = new SoloProducer({
        chain,
        mempool: this.mempool,
        keys: this.keys,
        address: this.address,
        logger,
        clock: Date.now,
        commit: (built, cert) => this.commitBlock(built, cert),
      });
      this.producer.start();
    }
  }

  /** The one commit path: durable write, then mempool re-check, metrics, logs, events. */
  private async commitBlock(built: BuildOutput, certificate: CommitCertificate): Promise<void> {
    const parentTime = this.chain.head.header.timestamp;
    const committed = await this.chain.commit(built, certificate);
    const nonceOf = (from: Uint8Array) => getAccount(this.chain.world, from).nonce;
    for (const { tx } of built.dropped) this.mempool.remove(tx.hash);
    this.mempool.removeCommitted(committed.txs, nonceOf);
    this.admission.updateGauges();
    const h = committed.block.header;
    recordBlock(this.metrics, { height: h.height, timestamp: h.timestamp, txCount: h.txCount, previousTimestamp: h.height > 1 ? parentTime : undefined });
    this.lastCommitAt = Date.now();
    this.logger.info({ height: h.height, hash: toHex(committed.hash).slice(0, 12), txs: h.txCount, time: new Date(h.timestamp).toISOString() }, 'block committed');
    this.events.emitBlock(committed);
  }

  status(): NodeStatus {
    const { chain } = this;
    return {
      chainId: chain.genesis.chainId,
      genesisHash: chain.genesisHash,
      nodeName: this.config.name,
      role: this.config.role,
      height: chain.height,
      latestBlockHash: chain.head.hash,
      latestBlockTime: chain.head.header.timestamp,
      validatorCount: chain.validators.size,
      peerCount: 0,
      mempoolSize: this.mempool.size,
      syncing: false,
      syncTarget: null,
    };
  }

  /** Unhealthy when no block was committed for 10 block periods (or 30 s, whichever is longer). */
  health(): HealthReport {
    const { params } = this.chain.genesis;
    const stallMs = Math.max(30_000, 10 * Math.max(params.blockPeriodMs, params.emptyBlockPeriodMs));
    const sinceCommit = Date.now() - this.lastCommitAt;
    return { ok: sinceCommit < stallMs, height: this.chain.height, msSinceLastCommit: sinceCommit };
  }

  async stop(): Promise<void> {
    await this.producer?.stop();
    for (const s of this.servers.splice(0).reverse()) await s.close().catch(() => {});
    await this.chain.close();
    this.logger.info({ height: this.chain.height }, 'node stopped');
    this.logger.flush?.();
  }
}
