import type { MempoolMetrics } from '../../mempool/index.ts';
import type { RpcMetrics } from '../../rpc/metrics.ts';
import type { ConsensusMetrics } from '../consensus/metrics.ts';
import type { SyncMetrics } from '../sync/metrics.ts';
import type { AdmissionMetrics } from '../txs/metrics.ts';
import type { VerifyMetrics } from '../verify/metrics.ts';
import type { NodeMetrics } from './node-metrics.ts';
import type { JouleMetrics } from './prometheus.ts';

/** Each part's metrics interface, implemented on the node's prom-client series. */
export function rpcMetrics(m: JouleMetrics): RpcMetrics {
  return {
    request(method, outcome, seconds) {
      m.rpcDuration.observe({ method }, seconds);
      m.rpcRequests.inc({ method, outcome });
    },
    invalidRequest: () => m.rpcRequests.inc({ method: 'invalid', outcome: 'invalid_request' }),
    rejected: (code, source) => m.rejections.inc({ code, source }),
    connections: (transport, count) => m.rpcConnections.set({ transport }, count),
  };
}

export function admissionMetrics(m: JouleMetrics): AdmissionMetrics {
  return {
    rejected: (code, source) => m.rejections.inc({ code, source }),
    waiting: (count) => m.admissionWaiting.set(count),
    poolSize(txs, bytes) {
      m.mempoolSize.set(txs);
      m.mempoolBytes.set(bytes);
    },
    tierSize(tier, txs, bytes) {
      m.mempoolTierTxs.set({ tier }, txs);
      m.mempoolTierBytes.set({ tier }, bytes);
    },
  };
}

export function mempoolMetrics(m: JouleMetrics): MempoolMetrics {
  return {
    rejected(reason, tier) {
      m.mempoolRejections.inc({ reason });
      m.mempoolTierRejected.inc({ tier, reason });
    },
    admitted: (tier) => m.mempoolTierAdmitted.inc({ tier }),
    evicted(reason, tier, count) {
      m.mempoolEvictions.inc({ reason }, count);
      m.mempoolTierEvicted.inc({ tier, reason }, count);
    },
    expired(reason, tier, count) {
      m.mempoolExpired.inc({ reason }, count);
      m.mempoolTierEvicted.inc({ tier, reason: `expired_${reason}` }, count);
    },
    included: (tier, ageMs) => m.mempoolTierInclusionAge.observe({ tier }, Math.max(0, ageMs) / 1000),
  };
}

export function consensusMetrics(m: JouleMetrics): ConsensusMetrics {
  return {
    round: (round) => m.consensusRound.set(round),
    roundChange: () => m.roundChanges.inc(),
    evidence: () => m.evidence.inc(),
    rejected: (code, source) => m.rejections.inc({ code, source }),
    blockStage: (stage, seconds) => m.blockStage.observe({ stage }, seconds),
  };
}

export function syncMetrics(m: JouleMetrics): SyncMetrics {
  return {
    targetHeight: (height) => m.syncTarget.set(height),
    peerFailure: (reason) => m.syncPeerFailures.inc({ reason }),
    rejected: (code) => m.rejections.inc({ code, source: 'sync' }),
  };
}

export function nodeMetrics(m: JouleMetrics): NodeMetrics {
  return {
    height: (height) => m.chainHeight.set(height),
    blockCommitted(b) {
      m.chainHeight.set(b.height);
      m.blockTxs.observe(b.txCount);
      m.txsCommitted.inc(b.txCount);
      if (b.previousTimestamp !== undefined && b.timestamp >= b.previousTimestamp) {
        m.blockInterval.observe((b.timestamp - b.previousTimestamp) / 1000);
      }
    },
    peers: (count) => m.peers.set(count),
    rejected: (code, source) => m.rejections.inc({ code, source }),
    storageError: (op) => m.storageErrors.inc({ op }),
  };
}

export function verifyMetrics(m: JouleMetrics): VerifyMetrics {
  return {
    batch(sets) {
      m.verifyBatches.inc();
      m.verifySets.inc(sets);
    },
    queued: (priority, cost) => m.verifyQueueCost.set({ priority }, cost),
    fallback: (reason) => m.verifyFallbacks.inc({ reason }),
    joined: (waiter) => m.verifyJoined.inc({ waiter }),
  };
}
