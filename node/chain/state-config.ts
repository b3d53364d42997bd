import { toHex } from '../../core/bytes.ts';
import type { WorldStateOptions } from '../../state/world-state.ts';
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
