/**
 * The prom-client implementation of every part's metrics interface (rpc/metrics.ts,
 * node/txs/metrics.ts, node/consensus/metrics.ts, node/sync/metrics.ts,
 * node/metrics/node-metrics.ts; the adapters are node/metrics/parts.ts). The node owns one
 * Registry (never prom-client's global default), so several nodes in one process (tests,
 * simulations) keep separate figures. Series names are part of the operator's contract
 * (README): change none.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface JouleMetrics {
  readonly registry: Registry;
  readonly chainHeight: Gauge;
  readonly blockInterval: Histogram;
  readonly blockTxs: Histogram;
  /** How long this node took to build its proposal, verify another's, and commit a decided block (a height's critical path). */
  readonly blockStage: Histogram<'stage'>;
  readonly txsCommitted: Counter;
  readonly mempoolSize: Gauge;
  readonly mempoolBytes: Gauge;
  readonly admissionWaiting: Gauge;
  /** Txs the mempool refused, by typed code (also in joule_rejections_total, with every other admission rule). */
  readonly mempoolRejections: Counter<'reason'>;
  readonly mempoolEvictions: Counter<'reason'>;
  readonly mempoolExpired: Counter<'reason'>;
  /** Per tier (mempool/README.md "Tiers"): what it holds, what got in, what was refused or pushed out, how long the mined ones waited. */
  readonly mempoolTierTxs: Gauge<'tier'>;
  readonly mempoolTierBytes: Gauge<'tier'>;
  readonly mempoolTierAdmitted: Counter<'tier'>;
  readonly mempoolTierRejected: Counter<'tier' | 'reason'>;
  readonly mempoolTierEvicted: Counter<'tier' | 'reason'>;
  readonly mempoolTierInclusionAge: Histogram<'tier'>;
  /** Every rejected input, by typed code and by where it came in (rpc, rpc-ws, gossip, mempool, ...). */
  readonly rejections: Counter<'code' | 'source'>;
  readonly storageErrors: Counter<'op'>;
  readonly rpcDuration: Histogram<'method'>;
  readonly rpcRequests: Counter<'method' | 'outcome'>;
  /** Open connections to the RPC port, by transport (http counts every TCP connection, ws the WebSocket sessions among them). */
  readonly rpcConnections: Gauge<'transport'>;
  readonly peers: Gauge;
  readonly consensusRound: Gauge;
  readonly roundChanges: Counter;
  readonly evidence: Counter;
  readonly syncTarget: Gauge;
  /** Block requests a peer did not serve (empty, failed, timeout, unusable); each excludes the peer for a while. */
  readonly syncPeerFailures: Counter<'reason'>;
  readonly verifyBatches: Counter;
  readonly verifyJoined: Counter<'waiter'>;
  readonly verifySets: Counter;
  readonly verifyQueueCost: Gauge<'priority'>;
  readonly verifyFallbacks: Counter<'reason'>;
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
  /** Labels put on every series, e.g. `{ node: 'validator-0' }`. */
  labels?: Record<string, string>;
}

export function createMetrics(opts: MetricsOptions = {}): JouleMetrics {
  const registry = new Registry();
  if (opts.labels !== undefined) registry.setDefaultLabels(opts.labels);
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    chainHeight: new Gauge({ name: 'joule_chain_height', help: 'Height of the latest committed block', registers }),
    blockInterval: new Histogram({
      name: 'joule_block_interval_seconds',
      help: 'Time between consecutive block timestamps',
      buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60],
      registers,
    }),
    blockTxs: new Histogram({
      name: 'joule_block_txs',
      help: 'Transactions per committed block',
      buckets: [0, 1, 10, 50, 100, 500, 1000, 2500, 5000, 10000],
      registers,
    }),
    blockStage: new Histogram({
      name: 'joule_consensus_block_stage_seconds',
      help: 'Seconds this node spent building its proposal (build), executing a proposal (verify) and storing a decided block (commit)',
      labelNames: ['stage'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8],
      registers,
    }),
    txsCommitted: new Counter({ name: 'joule_txs_committed_total', help: 'Transactions in committed blocks', registers }),
    mempoolSize: new Gauge({ name: 'joule_mempool_size', help: 'Transactions in the mempool', registers }),
    admissionWaiting: new Gauge({
      name: 'joule_admission_waiting',
      help: 'Transactions waiting for a place in admission (verification full, or a block being built, executed or stored)',
      registers,
    }),
    mempoolBytes: new Gauge({ name: 'joule_mempool_bytes', help: 'Encoded bytes of the transactions in the mempool', registers }),
    storageErrors: new Counter({
      name: 'joule_storage_errors_total',
      help: "Reads and writes this node's disk refused (full, read-only, I/O error), by operation; the node halts on the first",
      labelNames: ['op'] as const,
      registers,
    }),
    mempoolRejections: new Counter({
      name: 'joule_mempool_rejections_total',
      help: 'Transactions the mempool refused, by reason (typed error code)',
      labelNames: ['reason'] as const,
      registers,
    }),
    mempoolEvictions: new Counter({
      name: 'joule_mempool_evictions_total',
      help: 'Transactions pushed out of the mempool, by reason (gapped, outbid, unfunded)',
      labelNames: ['reason'] as const,
      registers,
    }),
    mempoolExpired: new Counter({
      name: 'joule_mempool_expired_total',
      help: 'Transactions dropped from the mempool for their age, by reason (gap: behind a nonce gap too long; age: older than maxTxAgeMs)',
      labelNames: ['reason'] as const,
      registers,
    }),
    mempoolTierTxs: new Gauge({ name: 'joule_mempool_tier_txs', help: 'Transactions in the mempool, by tier', labelNames: ['tier'] as const, registers }),
    mempoolTierBytes: new Gauge({ name: 'joule_mempool_tier_bytes', help: 'Encoded bytes in the mempool, by tier', labelNames: ['tier'] as const, registers }),
    mempoolTierAdmitted: new Counter({
      name: 'joule_mempool_tier_admitted_total',
      help: 'Transactions admitted to the mempool, by tier',
      labelNames: ['tier'] as const,
      registers,
    }),
    mempoolTierRejected: new Counter({
      name: 'joule_mempool_tier_rejected_total',
      help: 'Transactions the mempool refused, by tier and reason (typed error code)',
      labelNames: ['tier', 'reason'] as const,
      registers,
    }),
    mempoolTierEvicted: new Counter({
      name: 'joule_mempool_tier_evicted_total',
      help: 'Transactions pushed out of the mempool, by tier and reason (gapped, outbid, unfunded, invalid, expired_gap, expired_age)',
      labelNames: ['tier', 'reason'] as const,
      registers,
    }),
    mempoolTierInclusionAge: new Histogram({
      name: 'joule_mempool_tier_inclusion_age_seconds',
      help: 'Time from admission to the mempool to inclusion in a committed block, by tier',
      labelNames: ['tier'] as const,
      buckets: [0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300],
      registers,
    }),
    rejections: new Counter({
      name: 'joule_rejections_total',
      help: 'Rejected inputs by typed error code and source',
      labelNames: ['code', 'source'] as const,
      registers,
    }),
    rpcDuration: new Histogram({
      name: 'joule_rpc_request_duration_seconds',
      help: 'JSON-RPC method latency',
      labelNames: ['method'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    }),
    rpcRequests: new Counter({
      name: 'joule_rpc_requests_total',
      help: 'JSON-RPC requests by method and outcome',
      labelNames: ['method', 'outcome'] as const,
      registers,
    }),
    rpcConnections: new Gauge({
      name: 'joule_rpc_connections',
      help: 'Open connections to the RPC port by transport',
      labelNames: ['transport'] as const,
      registers,
    }),
    peers: new Gauge({ name: 'joule_peers', help: 'Connected peers', registers }),
    consensusRound: new Gauge({ name: 'joule_consensus_round', help: 'Current QBFT round at the current height', registers }),
    roundChanges: new Counter({ name: 'joule_consensus_round_changes_total', help: 'QBFT round changes', registers }),
    evidence: new Counter({ name: 'joule_evidence_total', help: 'Equivocation evidence observed', registers }),
    syncTarget: new Gauge({ name: 'joule_sync_target_height', help: 'Height block sync is catching up to (0 when not syncing)', registers }),
    syncPeerFailures: new Counter({
      name: 'joule_sync_peer_failures_total',
      help: 'Block requests a peer did not serve, by reason (empty, failed, timeout, unusable)',
      labelNames: ['reason'] as const,
      registers,
    }),
    verifyBatches: new Counter({ name: 'joule_verify_batches_total', help: 'Batches of signature sets sent to the verification workers', registers }),
    verifySets: new Counter({ name: 'joule_verify_sets_total', help: 'Signature sets verified by the verification workers', registers }),
    verifyQueueCost: new Gauge({
      name: 'joule_verify_queue_cost',
      help: 'Signature verification work queued, by priority (units of about one Ed25519 verification)',
      labelNames: ['priority'] as const,
      registers,
    }),
    verifyJoined: new Counter({
      name: 'joule_verify_checks_joined_total',
      help: 'Checks of a tx already under way on this node that admission or block import (waiter) waited for instead of making again',
      labelNames: ['waiter'] as const,
      registers,
    }),
    verifyFallbacks: new Counter({
      name: 'joule_verify_fallbacks_total',
      help: 'Signature verification jobs run on the event loop instead of a worker, by reason (worker-failed, overflow, no-worker)',
      labelNames: ['reason'] as const,
      registers,
    }),
  };
}
