import { describe, expect, it } from 'vitest';
import type { Tx } from '../../core/tx.ts';
import { executeBlock } from '../executor.ts';
import { testMarket, type TestMarket } from '../testing/market.ts';
import { loadAsTheNode } from '../testing/staged-load.ts';
import type { BlockResult } from '../types.ts';

/**
 * A market whose gate closes while no block is made (the chain stalled, or a busy market's
 * clearing ran long) clears in a block whose time is already past its interval's
 * settlement. The node loads what a block reads before it runs it, the settlement's from
 * the queue as it stands before the block: trades the clearing queues in the block wait
 * for the next one (the settlement runs before the clearing), or reading what settles them
 * fails the block on every node alike (HOOK_FAILED, a listing outside what was loaded even
 * without strict access) and the chain halts.
 */

/** Runs a block as the node does (staged loads, strict) and in memory; both must agree; commits it. */
async function asTheNode(t: TestMarket, ...txs: Tx[]): Promise<BlockResult> {
  const { c } = t;
  const ctx = c.ctx();
  const staged = executeBlock(await loadAsTheNode(c.state, txs, ctx), txs, ctx, { strictAccess: true });
  expect(staged).toEqual(executeBlock(c.state, txs, ctx));
  c.state.apply(staged.changes);
  c.height++;
  return staged;
}

const count = (r: BlockResult, type: string) => r.events.filter((e) => e.type === type).length;

describe('a market cleared when its settlement is already due', () => {
  it("clears in one block and settles in the next, through the node's staged loads", async () => {
    const t = testMarket();
    await asTheNode(t, t.place(t.buyers[0]!, 'bid', 1500n, 300n), t.place(t.sellers[0]!, 'ask', 1000n, 100n), t.place(t.sellers[1]!, 'ask', 500n, 200n));
    const money = t.money();
    t.toSettlement();
    const cleared = await asTheNode(t);
    expect([count(cleared, 'trade'), count(cleared, 'trade-settled')]).toEqual([2, 0]);
    const settled = await asTheNode(t);
    expect(count(settled, 'trade-settled')).toBe(2);
    expect(t.money()).toBe(money);
  });
});
