import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBlock, type CommitCertificate } from '../core/block.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { ErrorCode, isFatal, isJouleError, JouleError } from '../core/errors.ts';
import { StorageFailure } from '../core/storage-error.ts';
import { addressFromPublicKey, formatAddress } from '../core/keys.ts';
import { keySigner } from '../consensus/crypto.ts';
import { genesisHash, loadGenesis } from '../genesis/index.ts';
import { Mempool, TIER_DEFAULTS } from '../mempool/index.ts';
import { createP2PNode, peerIdFromIdentityKey, type P2PNode } from '../p2p/index.ts';
import { startRpcServer } from '../rpc/http/http-server.ts';
import { startMetricsServer } from '../rpc/http/metrics-server.ts';
import type { HealthReport, NodeStatus } from '../rpc/node-api.ts';
import { getAccount } from '../state/accounts.ts';
import { TxAdmission } from './txs/admission.ts';
import { createNodeApi } from './api/node-api.ts';
import type { BuildOutput, ExecutedBlock } from './blocks/block-builder.ts';
import { encodeCertifiedBlock } from './blocks/block-import.ts';
import { Chain } from './chain/chain.ts';
import { bindError, loadConfig, resolveIn, type NodeConfig } from './home/config.ts';
import { ConsensusDriver } from './consensus/driver.ts';
import { ConsensusRecordLog } from './consensus/wal.ts';
import { NodeEvents } from './events.ts';
import { CommandIssuer } from './commands/issuer.ts';
import { activationCommand } from '../vm/index.ts';
import { loadNodeKeys, readPassphrase, type NodeKeys } from './home/keys.ts';
import { createLogger, type Logger } from './log.ts';
import { SerialQueue } from './serial-queue.ts';
import { BlockSync } from './sync/block-sync.ts';
import { TxGossip } from './txs/tx-gossip.ts';
import { parseTransition } from './chain/transitions.ts';
import { evidenceReporter } from './consensus/evidence-reporter.ts';
import { cachingCrypto, type CachingCrypto } from './consensus/verify-cache.ts';
import { stateOptions } from './chain/state-config.ts';
import { registerStateGauges } from './metrics/state.ts';
import { BlockGossip } from './net/block-gossip.ts';
import { ConsensusGossip } from './net/consensus-gossip.ts';
import { VerifiedTxs } from './verify/verified-txs.ts';
import { WorkerPoolVerifier } from './verify/worker-pool.ts';
import type { NodeMetrics } from './metrics/node-metrics.ts';
import { admissionMetrics, consensusMetrics, mempoolMetrics, nodeMetrics, rpcMetrics, syncMetrics, verifyMetrics } from './metrics/parts.ts';
import { createMetrics, type JouleMetrics } from './metrics/prometheus.ts';
import { grpcMetrics, ingressMetrics } from './metrics/grpc.ts';
import { startIngress, type RunningIngress } from './ingress/start.ts';
import { jouleGrpcServices } from '../rpc/grpc/joule-services.ts';
import { joulePackageDefinition } from '../rpc/grpc/joule-proto.ts';

export interface StartOptions {
  readonly home: string;
  readonly passphraseFile?: string | undefined;
  readonly logger?: Logger | undefined;
}

interface Closable {
  close(): Promise<void>;
}

/**
 * The composition root of one node: chain, mempool, libp2p, QBFT, sync, RPC and metrics.
 * Every change of the head (consensus commit, sync or gossip import) runs in one serial
 * queue through `commitBlock`. `stop()` drains that queue before closing the store, so a
 * clean shutdown loses nothing; a crash loses nothing final either (see Chain.commit).
 */
export class JouleNode {
  readonly config: NodeConfig;
  readonly chain: Chain;
  readonly mempool: Mempool;
  /** The prom-client series every part's metrics interface writes to (served on /metrics). */
  readonly metrics: JouleMetrics;
  private readonly nodeMetrics: NodeMetrics;
  readonly events: NodeEvents;
  readonly logger: Logger;
  readonly address: Uint8Array;
  private readonly keys: NodeKeys;
  private readonly home: string;
  private readonly admission: TxAdmission;
  /** Grid commands: issued through the API, announced ('command-issued') once admitted, from here or from gossip. */
  private readonly commands: CommandIssuer;
  private readonly queue: SerialQueue;
  private readonly crypto: CachingCrypto = cachingCrypto();
  private readonly servers: Closable[] = [];
  private p2p: P2PNode | undefined;
  private driver: ConsensusDriver | undefined;
  private wal: ConsensusRecordLog | undefined;
  private sync: BlockSync | undefined;
  private txGossip: TxGossip | undefined;
  /** The gRPC port and the device ingress behind it. */
  ingress: RunningIngress | undefined;
  private lastCommitAt = Date.now();
  private halting = false;
  private resolveHalted: ((reason: JouleError) => void) | undefined;
  /**
   * Resolves when the node stopped itself because it cannot go on safely (a conflicting
   * certificate, a local disk fault): the process should exit non-zero with the reason.
   */
  readonly halted: Promise<JouleError> = new Promise((resolve) => {
    this.resolveHalted = resolve;
  });

  private constructor(home: string, config: NodeConfig, chain: Chain, keys: NodeKeys, logger: Logger, metrics: JouleMetrics) {
    this.home = home;
    this.config = config;
    this.chain = chain;
    this.keys = keys;
    this.logger = logger;
    this.address = addressFromPublicKey(keys.identity.publicKey);
    this.metrics = metrics;
    this.nodeMetrics = nodeMetrics(this.metrics);
    this.mempool = new Mempool({ ...TIER_DEFAULTS, ...config.mempool }, mempoolMetrics(this.metrics));
    this.admission = new TxAdmission(chain, this.mempool, admissionMetrics(this.metrics));
    this.events = new NodeEvents((e, type) => logger.error({ err: e, event: type }, 'event listener failed'));
    this.commands = new CommandIssuer({
      chainId: chain.genesis.chainId,
      submit: async (bytes) => {
        const tx = await this.admission.submit(bytes, 'rpc');
        this.txGossip?.add(tx);
        return tx;
      },
      announce: (c) => this.events.emit('command-issued', c),
      derived: (tx) => activationCommand(chain.world, tx),
    });
    // A fatal error (an end-of-block hook failed while building or executing a block)
    // surfaces here from every path that executes blocks: consensus, sync, gossip import.
    this.queue = new SerialQueue((e) => (isFatal(e) ? this.halt(e) : logger.error({ err: e }, 'chain task failed')));
  }

  static async start(opts: StartOptions): Promise<JouleNode> {
    const config = loadConfig(opts.home);
    const logger =
      opts.logger ??
      createLogger({ name: config.name, level: config.log.level, destination: config.log.file === null ? undefined : resolveIn(opts.home, config.log.file) });
    const genesis = loadGenesis(resolveIn(opts.home, config.genesis));
    const passphrase = readPassphrase(opts.passphraseFile);
    const keys = await loadNodeKeys(resolveIn(opts.home, config.identityKey), resolveIn(opts.home, config.consensusKey), passphrase, {
      validator: config.role === 'validator',
    });
    if (keys.insecure) logger.warn('running with INSECURE devnet keys (stored unencrypted): never do this on a real chain');
    for (const e of keys.exposed) logger.warn({ key: e }, 'key file readable by other users');
    const transitions = config.transitions.map((t, i) => parseTransition(t, genesis.chainId, `transitions[${i}]`));
    // Signatures are verified on worker threads; the cache lets a tx admitted here skip them in a block.
    const metrics = createMetrics({ labels: { node: config.name } });
    const verifying = verifyMetrics(metrics);
    const service = new WorkerPoolVerifier({
      workers: config.verify.workers ?? undefined,
      metrics: verifying,
      onWorkerError: (e) => logger.error({ err: e }, 'signature verification worker failed; replaced'),
    });
    const signatures = { service, verifiedTxs: new VerifiedTxs(2 * config.mempool.maxTxs, verifying) };
    let chain: Chain;
    try {
      chain = await Chain.open(resolveIn(opts.home, config.dataDir), genesis, genesisHash(genesis), { signatures, state: stateOptions(config, logger) });
    } catch (e) {
      await service.close();
      throw e;
    }
    try {
      await chain.setTransitions(transitions);
    } catch (e) {
      await chain.close();
      await service.close();
      throw e;
    }
    for (const t of transitions)
      logger.warn({ height: t.height, validators: t.validators.validators.map((v) => v.name) }, 'emergency validator-set transition configured');
    const node = new JouleNode(opts.home, config, chain, keys, logger, metrics);
    try {
      await node.startServices(passphrase);
    } catch (e) {
      await node.stop();
      throw e;
    }
    return node;
  }

  private get isValidator(): boolean {
    return this.config.role === 'validator';
  }

  private async startServices(passphrase: string | undefined): Promise<void> {
    const { config, chain, logger } = this;
    this.nodeMetrics.height(chain.height);
    registerStateGauges(this.metrics, () => chain.world.stats);
    if (this.isValidator) {
      mkdirSync(join(this.home, 'wal'), { recursive: true });
      this.wal = ConsensusRecordLog.open(join(this.home, 'wal', 'consensus.wal'));
    }
    try {
      await this.startP2P();
    } catch (e) {
      throw isJouleError(e) ? e : bindError(e, 'p2p', config.p2p.listen);
    }
    const api = createNodeApi({
      chain,
      admission: this.admission,
      events: this.events,
      status: () => this.status(),
      onAdmitted: (tx) => {
        this.txGossip?.add(tx);
        this.commands.observe(tx);
      },
      commands: this.commands,
    });
    const rpc = await startRpcServer({
      host: config.rpc.host,
      port: config.rpc.port,
      corsOrigins: config.rpc.corsOrigins,
      hosts: config.rpc.hosts,
      limits: {
        maxConnections: config.rpc.maxConnections,
        ...given({ maxConnectionsPerAddress: config.rpc.maxConnectionsPerAddress, maxBodyBytesInFlight: config.rpc.maxBodyBytesInFlight }),
      },
      ws: given({ maxConnections: config.rpc.maxWsConnections, maxConnectionsPerAddress: config.rpc.maxWsConnectionsPerAddress }),
      api,
      metrics: rpcMetrics(this.metrics),
      logger: logger.child({ part: 'rpc' }),
      health: () => this.health(),
    }).catch((e: unknown) => {
      throw bindError(e, 'rpc', `${config.rpc.host}:${config.rpc.port}`);
    });
    this.servers.push(rpc);
    const metrics = await startMetricsServer({
      host: config.metrics.host,
      port: config.metrics.port,
      metrics: this.metrics.registry,
      health: () => this.health(),
      logger: logger.child({ part: 'metrics' }),
    }).catch((e: unknown) => {
      throw bindError(e, 'metrics', `${config.metrics.host}:${config.metrics.port}`);
    });
    this.servers.push(metrics);
    const grpcSeries = grpcMetrics(this.metrics);
    const ingress = await startIngress({
      home: this.home,
      config,
      chain,
      mempool: this.mempool,
      admission: this.admission,
      events: this.events,
      logger: logger.child({ part: 'ingress' }),
      metrics: ingressMetrics(this.metrics),
      grpcMetrics: grpcSeries,
      passphrase,
      gossip: (tx) => this.txGossip?.add(tx),
      // Joule's own services (joule.v1) share the port with the device stream, over the same NodeApi as JSON-RPC.
      services: jouleGrpcServices({ api, logger: logger.child({ part: 'grpc' }), onSlowConsumer: (stream) => grpcSeries.slowConsumer(stream) }),
      reflect: [joulePackageDefinition()],
    }).catch((e: unknown) => {
      throw isJouleError(e) ? e : bindError(e, 'grpc', `${config.grpc.host}:${config.grpc.port}`);
    });
    this.ingress = ingress;
    this.servers.push(ingress);
    if (!ingress.server.tls)
      logger.warn(
        { grpc: `${config.grpc.host}:${ingress.server.port}` },
        'gRPC is PLAINTEXT (no grpc.tls): for a devnet on loopback only, never across a network',
      );
    logger.info(
      {
        chainId: chain.genesis.chainId,
        role: config.role,
        height: chain.height,
        head: toHex(chain.head.hash),
        address: formatAddress(this.address),
        peerId: this.p2p?.peerId,
        validators: chain.validators.size,
        rpc: `http://${config.rpc.host}:${rpc.port}`,
        metrics: `http://${config.metrics.host}:${metrics.port}/metrics`,
        grpc: `${ingress.server.tls ? 'https' : 'http'}://${config.grpc.host}:${ingress.server.port}`,
      },
      'node started',
    );
    if (this.wal !== undefined) {
      this.driver = new ConsensusDriver({
        chain,
        mempool: this.mempool,
        queue: this.queue,
        signer: keySigner(this.address, this.keys.identity.seed, this.keys.consensus.secretKey),
        crypto: this.crypto,
        wal: this.wal,
        logger: logger.child({ part: 'qbft' }),
        metrics: consensusMetrics(this.metrics),
        clock: Date.now,
        publish: (bytes) => void this.p2p?.publish('consensus', bytes).catch((e: unknown) => logger.debug({ err: e }, 'consensus publish failed')),
        sendDirect: (bytes, peer) => {
          const sent = peer === undefined ? this.p2p?.broadcastDirect('consensus', bytes) : this.p2p?.sendDirect(peer, 'consensus', bytes);
          void sent?.catch((e: unknown) => logger.debug({ err: e, peer }, 'consensus re-send failed'));
        },
        onSafetyViolation: (message) => this.halt(new JouleError(ErrorCode.SAFETY_VIOLATION, message)),
        commit: (executed, cert) => this.commitBlock(executed, cert),
        criticalPath: (step) => this.admission.whileHeld(step),
        onEvidence: evidenceReporter({
          chain,
          mempool: this.mempool,
          admission: this.admission,
          identitySeed: this.keys.identity.seed,
          address: this.address,
          logger,
          gossip: (tx) => this.txGossip?.add(tx),
        }),
        onSyncNeeded: () => void this.sync?.trigger(),
      });
      await this.driver.start();
    }
    this.sync?.start();
    this.p2p?.on('peer:connect', (peer) => this.driver?.onPeerConnected(peer));
  }

  /**
   * Stops everything that signs or writes (consensus, sync, commits), loudly, and reports
   * why through `halted`: a safety violation, or an end-of-block hook failure (HOOK_FAILED).
   */
  halt(reason: JouleError): void {
    if (this.halting) return;
    this.halting = true;
    if (reason instanceof StorageFailure) {
      this.nodeMetrics.storageError(reason.op);
      this.logger.fatal(
        { code: reason.code, path: reason.path, op: reason.op, os: reason.osCode, err: reason.message },
        "node halted: its disk refused a write or read (not a peer's fault)",
      );
    } else this.logger.fatal({ code: reason.code, err: reason.message, field: reason.field }, 'node halted: it cannot continue safely');
    this.driver?.stop();
    void this.sync?.stop();
    this.resolveHalted?.(reason);
  }

  /** Peers allowed in: every genesis and current validator, plus the named observers of the config. */
  private allowedPeers(): string[] {
    const ids = new Set<string>(this.config.p2p.allowPeers);
    for (const v of [...this.chain.genesis.validators, ...this.chain.validators.validators, ...this.chain.transitionValidators()])
      ids.add(peerIdFromIdentityKey(v.identityKey));
    ids.delete(peerIdFromIdentityKey(this.keys.identity.publicKey));
    return [...ids];
  }

  private async startP2P(): Promise<void> {
    const { chain, logger } = this;
    const p2p = await createP2PNode({
      chainId: chain.genesis.chainId,
      identitySeed: this.keys.identity.seed,
      listen: this.config.p2p.listen,
      staticPeers: this.config.p2p.peers,
      allowedPeers: this.allowedPeers(),
      maxConnections: this.config.p2p.maxConnections,
      maxGossipBytes: chain.genesis.params.maxBlockBytes + 256 * 1024,
      serveStatus: () => ({ height: chain.height, hash: chain.head.hash }),
      serveBlocks: async (from, to, limit) => {
        const items: Uint8Array[] = [];
        for (let h = from; h <= Math.min(to, chain.height) && items.length < limit; h++) {
          const certified = await chain.certifiedBlockAt(h);
          if (certified === undefined) break;
          items.push(encodeCertifiedBlock(certified.blockBytes, certified.certificate));
        }
        return items;
      },
      logger: logger.child({ part: 'p2p' }),
    });
    this.p2p = p2p;
    const updatePeers = () => this.nodeMetrics.peers(p2p.peerCount());
    p2p.on('peer:connect', updatePeers);
    p2p.on('peer:disconnect', updatePeers);

    this.txGossip = new TxGossip(
      (bytes) => void p2p.publish('txs', bytes).catch(() => {}),
      this.admission,
      (e) => logger.error({ err: e }, 'gossiped tx admission failed'),
      (tx) => this.commands.observe(tx),
    );
    p2p.subscribe('txs', this.txGossip);
    p2p.subscribe(
      'consensus',
      new ConsensusGossip({
        chain,
        crypto: this.crypto,
        rejected: (code) => this.nodeMetrics.rejected(code, 'gossip'),
        deliver: (data, decoded) => this.driver?.onMessage(data, decoded),
      }),
    );
    // Validators commit through consensus and catch up through sync; certified-block gossip
    // is for observers (node/net/block-gossip.ts).
    if (!this.isValidator) {
      p2p.subscribe(
        'blocks',
        new BlockGossip({
          chain,
          queue: this.queue,
          commit: (executed, cert) => this.commitBlock(executed, cert),
          imported: async () => this.driver?.headAdvanced(),
          ahead: () => void this.sync?.trigger(),
          rejected: (code) => this.nodeMetrics.rejected(code, 'gossip'),
          penalize: async (peer, e) => {
            logger.warn({ peer, code: e.code, err: e.message }, 'gossiped block rejected; penalising the sender');
            await this.p2p?.penalize(peer, 'invalid gossiped block');
          },
          failed: (peer, e) => logger.error({ peer, err: e }, "gossiped block import failed (not the sender's fault)"),
        }),
      );
    }
    this.sync = new BlockSync({
      chain,
      p2p,
      queue: this.queue,
      logger: logger.child({ part: 'sync' }),
      metrics: syncMetrics(this.metrics),
      commit: (executed, cert) => this.commitBlock(executed, cert),
      afterImport: async () => this.driver?.headAdvanced(),
    });
  }

  /** The one commit path: durable write, then mempool re-check, metrics, logs, events, block gossip. */
  private async commitBlock(executed: ExecutedBlock | BuildOutput, certificate: CommitCertificate): Promise<void> {
    if (this.halting) throw new JouleError(ErrorCode.UNAVAILABLE, `the node halted; block ${executed.block.header.height} is not committed`);
    const parentTime = this.chain.head.header.timestamp;
    const setBefore = this.chain.validators.hash;
    const committed = await this.chain.commit(executed, certificate);
    if ('dropped' in executed) for (const { tx } of executed.dropped) this.mempool.remove(tx.hash);
    this.mempool.removeCommitted(committed.txs, (from) => getAccount(this.chain.world, from), Date.now());
    // Every commit (at least one per empty-block period) is when the pool learns the time.
    this.mempool.expire(Date.now());
    this.admission.revalidate();
    this.chain.signatures.verifiedTxs.deleteAll(committed.txs);
    this.admission.updateGauges();
    const h = committed.block.header;
    this.nodeMetrics.blockCommitted({ height: h.height, timestamp: h.timestamp, txCount: h.txCount, previousTimestamp: h.height > 1 ? parentTime : undefined });
    this.lastCommitAt = Date.now();
    this.logger.info(
      { height: h.height, hash: toHex(committed.hash).slice(0, 12), txs: h.txCount, round: certificate.round, time: new Date(h.timestamp).toISOString() },
      'block committed',
    );
    this.events.emitCommitted(committed);
    if (!equalBytes(setBefore, this.chain.validators.hash)) {
      this.logger.warn({ height: h.height, validators: this.chain.validators.validators.map((v) => v.name) }, 'validator set changed');
      // A validator added by vote may connect from now on.
      for (const v of this.chain.validators.validators) this.p2p?.allowPeer(peerIdFromIdentityKey(v.identityKey));
    }
    // Observers (and only they) subscribe to certified blocks; encode nothing for nobody.
    if (this.p2p !== undefined && this.p2p.topicPeers('blocks').length > 0) {
      void this.p2p.publish('blocks', encodeCertifiedBlock(encodeBlock(committed.block), certificate)).catch(() => {});
    }
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
      peerCount: this.p2p?.peerCount() ?? 0,
      mempoolSize: this.mempool.size,
      syncing: this.sync?.syncing ?? false,
      syncTarget: this.sync?.syncing ? this.sync.target : null,
    };
  }

  /** Unhealthy when no block was committed for 10 block periods (or 30 s, whichever is longer). */
  health(): HealthReport {
    const { params } = this.chain.genesis;
    const stallMs = Math.max(30_000, 10 * Math.max(params.blockPeriodMs, params.emptyBlockPeriodMs));
    const sinceCommit = Date.now() - this.lastCommitAt;
    return { ok: sinceCommit < stallMs, height: this.chain.height, msSinceLastCommit: sinceCommit, peers: this.p2p?.peerCount() ?? 0 };
  }

  async stop(): Promise<void> {
    this.driver?.stop();
    await this.sync?.stop();
    this.txGossip?.stop();
    await this.queue.idle();
    for (const s of this.servers.splice(0).reverse()) await s.close().catch(() => {});
    await this.p2p?.stop().catch(() => {});
    await this.chain.signatures.service.close();
    this.wal?.close();
    await this.chain.close();
    this.logger.info({ height: this.chain.height }, 'node stopped');
    this.logger.flush?.();
  }
}

/** The settings of `o` that are set: a config's null ("derive it") becomes absent, so the part's own default applies. */
function given<T extends Record<string, number | null>>(o: T): { [K in keyof T]?: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null)) as { [K in keyof T]?: Exclude<T[K], null> };
}
