import { Gauge } from 'prom-client';
import type { StateStats } from '../../state/world-state.ts';
import type { JouleMetrics } from './prometheus.ts';

/**
 * The state's figures as gauges read at scrape time: the world state keeps its own
 * counters (WorldState.stats), so nothing on the read or commit path calls into metrics.
 */
export function registerStateGauges(m: JouleMetrics, stats: () => StateStats): void {
  const gauge = (name: string, help: string, read: (s: StateStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [m.registry],
      collect() {
        this.set(read(stats()));
      },
    });
  gauge('joule_state_unprefetched_reads', 'Reads by blocks of state keys their access lists did not declare (should stay 0)', (s) => s.unprefetchedReads);
  gauge('joule_state_sync_reads', 'State values read synchronously from LevelDB (value cache misses outside blocks)', (s) => s.syncReads);
  gauge('joule_state_node_reads', 'State tree nodes read from LevelDB (node cache misses)', (s) => s.nodeReads);
  gauge('joule_state_node_cache_entries', 'State tree nodes held in memory', (s) => s.nodeCacheEntries);
  gauge('joule_state_value_cache_entries', 'State values held in memory', (s) => s.valueCacheEntries);
  gauge('joule_state_pruned_heights', 'Heights whose stale state tree nodes were pruned since start', (s) => s.prunedHeights);
  gauge('joule_state_oldest_provable_height', 'Oldest height whose state proofs are served (pruning)', (s) => s.oldestProvable);
}
