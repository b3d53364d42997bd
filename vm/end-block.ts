import type { BlockEvent } from '../core/block.ts';
import { ErrorCode, isJouleError, JouleError } from '../core/errors.ts';
import { StateOverlay, type StateReader } from '../state/overlay.ts';
import type { BlockContext, EndBlockHook, WorkBudget } from './types.ts';

/**
 * Work units all end-of-block hooks together may draw in one block. A unit is one item of
 * work, about what a transfer costs to execute, so the hooks add at most about as much as
 * a block's worth of transfers.
 */
export const MAX_END_BLOCK_WORK = 10_000;

class Budget implements WorkBudget {
  private left: number;

  constructor(units: number) {
    this.left = units;
  }

  get remaining(): number {
    return this.left;
  }

  take(units = 1): boolean {
    if (!Number.isSafeInteger(units) || units < 0) throw new Error(`work units must be a non-negative integer, got ${units}`);
    if (units > this.left) return false;
    this.left -= units;
    return true;
  }
}

/** A budget of `units` work units: what a hook draws from in one block (tests and benchmarks run hooks with their own). */
export function workBudget(units: number): WorkBudget {
  return new Budget(units);
}

/**
 * Checks a hook list (unique names, positive integer budgets within MAX_END_BLOCK_WORK in
 * total) and puts it in execution order: ascending `order`, then name. Throws on a
 * misconfigured list: that is a bug in the code, found at load.
 */
export function orderHooks(hooks: readonly EndBlockHook[]): readonly EndBlockHook[] {
  const names = new Set<string>();
  let total = 0;
  for (const h of hooks) {
    if (names.has(h.name)) throw new Error(`duplicate end-of-block hook ${h.name}`);
    names.add(h.name);
    if (!Number.isSafeInteger(h.workPerBlock) || h.workPerBlock < 1) throw new Error(`end-of-block hook ${h.name}: workPerBlock must be a positive integer`);
    total += h.workPerBlock;
  }
  if (total > MAX_END_BLOCK_WORK) throw new Error(`end-of-block hooks draw ${total} work units a block, limit ${MAX_END_BLOCK_WORK}`);
  return [...hooks].sort((a, b) => (a.order !== b.order ? a.order - b.order : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Runs the hooks in order, each with a fresh budget of its `workPerBlock` units. Any
 * exception from a hook (a JouleError included: a hook has no input to reject) becomes
 * HOOK_FAILED naming the hook and the height; the caller must not use the block.
 * `guard` (strict access mode) gives the reader each hook reads through: its writes go to
 * an overlay over it, absorbed into `state` when the hook returns.
 */
export function runEndBlockHooks(
  state: StateOverlay,
  block: BlockContext,
  hooks: readonly EndBlockHook[],
  guard?: (hook: EndBlockHook) => StateReader,
): BlockEvent[] {
  const events: BlockEvent[] = [];
  for (const hook of hooks) {
    try {
      const hookState = guard === undefined ? state : new StateOverlay(guard(hook));
      events.push(...hook.run(hookState, block, new Budget(hook.workPerBlock)));
      if (hookState !== state) state.absorb(hookState);
    } catch (e) {
      const why = isJouleError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
      throw new JouleError(
        ErrorCode.HOOK_FAILED,
        `end-of-block hook ${hook.name} failed at height ${block.height} (${why}); this node stops rather than certify a block others may compute differently`,
        `endBlock.${hook.name}`,
      );
    }
  }
  return events;
}
