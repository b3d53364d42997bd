import { Gauge, type Registry } from 'prom-client';
import { toHex } from '../../core/bytes.ts';
import type { WorldStateOptions, WorldState } from '../../state/world-state.ts';
import type { NodeConfig } from '../home/config.ts';
import type { Logger } from '../log.ts';

const MIB = 1024 * 1024;

/** The world state's options from the node config, with logging for what the state reports. */
export function stateOptions(config: NodeConfig, logger: Logger): WorldStateOptions {
  const warned = new Set<number>();
  return {
    historyBlocks: config.state.historyBlocks,
    archive: config.state.archive,
    valueCacheBytes: config.state.valueCacheMB * MIB,
    nodeCacheBytes: config.state.nodeCacheMB * MIB,
    strictAccess: config.state.strictAccess,
    onUnprefetchedRead: (key) => {
      // Once per record kind: a wrong access list repeats on every block.
      if (warned.has(key[0]!)) return;
      warned.add(key[0]!);
      logger.error({ key: toHex(key) }, 'a block read a state key its access list did not declare (served synchronously; fix the handler or hook)');
    },
    onPruneError: (e) => logger.error({ err: e }, 'state pruning failed; retried at the next commit'),
  };
}

/** State figures as gauges read at scrape time (the world state keeps the counters). */
export function registerStateMetrics(registry: Registry, world: WorldState): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('joule_state_unprefetched_reads', 'Reads by blocks of state keys their access lists did not declare (should stay 0)', () => world.stats.unprefetchedReads);
  gauge('joule_state_sync_reads', 'State values read synchronously from LevelDB (value cache misses outside blocks)', () => world.stats.syncReads);
  gauge('joule_state_node_reads', 'State tree nodes read from LevelDB (node cache misses)', () => world.stats.nodeReads);
  gauge('joule_state_node_cache_entries', 'State tree nodes held in memory', () => world.stats.nodeCacheEntries);
  gauge('joule_state_value_cache_entries', 'State values held in memory', () => world.stats.valueCacheEntries);
  gauge('joule_state_oldest_provable_height', 'Oldest height whose state proofs are served (pruning)', () => world.oldestProvable);
}
