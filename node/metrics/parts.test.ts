import { describe, expect, it } from 'vitest';
import { admissionMetrics, consensusMetrics, mempoolMetrics, nodeMetrics, rpcMetrics, syncMetrics } from './parts.ts';
import { createMetrics } from './prometheus.ts';

describe("each part's metrics interface on prom-client", () => {
  it('writes the series the README lists, under their names and labels', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const node = nodeMetrics(m);
    node.blockCommitted({ height: 5, timestamp: 3500, txCount: 4, previousTimestamp: 1000 });
    node.blockCommitted({ height: 6, timestamp: 4000, txCount: 0 });
    node.peers(3);
    node.rejected('CERT_INVALID', 'gossip');
    const admission = admissionMetrics(m);
    admission.poolSize(12, 3456);
    admission.rejected('TX_BAD_SIGNATURE', 'rpc');
    const mempool = mempoolMetrics(m);
    admission.tierSize('carbon_credit', 7, 890);
    mempool.rejected('MEMPOOL_INSUFFICIENT_FUNDS', 'peer_to_peer');
    mempool.evicted('gapped', 'carbon_credit', 3);
    mempool.expired('gap', 'grid_balancing', 2);
    mempool.admitted('system');
    mempool.included('grid_balancing', 1500);
    const consensus = consensusMetrics(m);
    consensus.round(2);
    consensus.roundChange();
    consensus.evidence();
    consensus.rejected('BLOCK_INVALID', 'proposal');
    const sync = syncMetrics(m);
    sync.targetHeight(40);
    sync.peerFailure('timeout');
    sync.rejected('CERT_INVALID');
    const rpc = rpcMetrics(m);
    rpc.request('joule_status', 'ok', 0.002);
    rpc.invalidRequest();
    rpc.rejected('PARSE_ERROR', 'rpc-ws');
    rpc.connections('http', 5);
    rpc.connections('ws', 2);
    const text = await m.registry.metrics();
    for (const line of [
      'joule_chain_height 6',
      'joule_txs_committed_total 4',
      'joule_block_txs_count 2',
      'joule_block_interval_seconds_sum 2.5',
      'joule_block_interval_seconds_count 1',
      'joule_peers 3',
      'joule_mempool_size 12',
      'joule_mempool_bytes 3456',
      'joule_mempool_rejections_total{reason="MEMPOOL_INSUFFICIENT_FUNDS"} 1',
      'joule_mempool_evictions_total{reason="gapped"} 3',
      'joule_mempool_expired_total{reason="gap"} 2',
      'joule_mempool_tier_txs{tier="carbon_credit"} 7',
      'joule_mempool_tier_bytes{tier="carbon_credit"} 890',
      'joule_mempool_tier_admitted_total{tier="system"} 1',
      'joule_mempool_tier_rejected_total{tier="peer_to_peer",reason="MEMPOOL_INSUFFICIENT_FUNDS"} 1',
      'joule_mempool_tier_evicted_total{tier="carbon_credit",reason="gapped"} 3',
      'joule_mempool_tier_evicted_total{tier="grid_balancing",reason="expired_gap"} 2',
      'joule_mempool_tier_inclusion_age_seconds_sum{tier="grid_balancing"} 1.5',
      'joule_consensus_round 2',
      'joule_consensus_round_changes_total 1',
      'joule_evidence_total 1',
      'joule_sync_target_height 40',
      'joule_sync_peer_failures_total{reason="timeout"} 1',
      'joule_rejections_total{code="CERT_INVALID",source="gossip"} 1',
      'joule_rejections_total{code="TX_BAD_SIGNATURE",source="rpc"} 1',
      'joule_rejections_total{code="BLOCK_INVALID",source="proposal"} 1',
      'joule_rejections_total{code="CERT_INVALID",source="sync"} 1',
      'joule_rejections_total{code="PARSE_ERROR",source="rpc-ws"} 1',
      'joule_rpc_requests_total{method="joule_status",outcome="ok"} 1',
      'joule_rpc_requests_total{method="invalid",outcome="invalid_request"} 1',
      'joule_rpc_request_duration_seconds_count{method="joule_status"} 1',
      'joule_rpc_connections{transport="http"} 5',
      'joule_rpc_connections{transport="ws"} 2',
    ]) {
      expect(text).toContain(line);
    }
  });
});
