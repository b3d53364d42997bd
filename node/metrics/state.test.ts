import { describe, expect, it } from 'vitest';
import type { StateStats } from '../../state/world-state.ts';
import { createMetrics } from './prometheus.ts';
import { registerStateGauges } from './state.ts';

describe('state gauges', () => {
  it("serve the state's counters as they are at scrape time, under the names the README lists", async () => {
    const m = createMetrics({ defaultMetrics: false });
    let stats: StateStats = {
      nodeReads: 1,
      nodeCacheEntries: 2,
      valueCacheEntries: 3,
      syncReads: 4,
      unprefetchedReads: 0,
      prunedHeights: 5,
      oldestProvable: 6,
    };
    registerStateGauges(m, () => stats);
    expect(await m.registry.metrics()).toContain('joule_state_unprefetched_reads 0');
    stats = { nodeReads: 10, nodeCacheEntries: 20, valueCacheEntries: 30, syncReads: 40, unprefetchedReads: 1, prunedHeights: 50, oldestProvable: 60 };
    const text = await m.registry.metrics();
    for (const line of [
      'joule_state_unprefetched_reads 1',
      'joule_state_sync_reads 40',
      'joule_state_node_reads 10',
      'joule_state_node_cache_entries 20',
      'joule_state_value_cache_entries 30',
      'joule_state_pruned_heights 50',
      'joule_state_oldest_provable_height 60',
    ]) {
      expect(text).toContain(line);
    }
  });
});
