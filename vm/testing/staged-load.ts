import type { Tx } from '../../core/tx.ts';
import { LoadedState, type StateSource } from '../../state/loaded-state.ts';
import type { StateReader } from '../../state/overlay.ts';
import { blockAccess, END_BLOCK_LATER_STAGES } from '../access.ts';
import { executeBlock } from '../executor.ts';
import type { BlockContext, BlockResult } from '../types.ts';

/** A store over `state` with nothing resident and strict access: a read the stages did not load throws. */
function unresidentSource(state: StateReader): StateSource {
  return {
    version: 0,
    strictAccess: true,
    get: () => {
      throw new Error('unloaded read');
    },
    readMany: async (keys) => keys.map((k) => state.get(k)),
    readRange: async (prefix, from, limit) => {
      const out = [];
      for (const e of state.iterate(prefix, from)) {
        if (out.length >= limit) break;
        out.push(e);
      }
      return out;
    },
    isResident: () => false,
    iterate: () => {
      throw new Error('not resident');
    },
    unprefetched: () => undefined,
  };
}

/**
 * What a block of `txs` reads, loaded from `state` as the node loads it (the block's access
 * list, then the hooks' later stages): a block run on the result fails on any read the
 * stages missed, where the node would fail.
 */
export async function loadAsTheNode(state: StateReader, txs: readonly Tx[], ctx: BlockContext): Promise<LoadedState> {
  const loaded = new LoadedState(unresidentSource(state));
  await loaded.load(blockAccess(txs, ctx));
  for (const stage of END_BLOCK_LATER_STAGES) await loaded.load(stage(ctx, loaded));
  return loaded;
}

/** Executes `txs` strictly on what the node's stages load from `state` (a read they missed throws, as it would halt the node). */
export async function executeAsTheNode(state: StateReader, txs: readonly Tx[], ctx: BlockContext): Promise<BlockResult> {
  return executeBlock(await loadAsTheNode(state, txs, ctx), txs, ctx, { strictAccess: true });
}
