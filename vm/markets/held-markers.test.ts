import { describe, expect, it } from 'vitest';
import { readU64be } from '../../core/bytes.ts';
import { encodeTrade } from '../../core/market.ts';
import { DEVNET_PARAMS } from '../../core/params.ts';
import { MarketBucket, marketId } from '../../core/state-keys.ts';
import { buildCheckMeterResolution } from '../../core/tx/check-meter-resolution.ts';
import {
  getDeviceTraded,
  getSettlement,
  getSettleProgress,
  SETTLE_HELD_PREFIX,
  SETTLE_QUEUE_PREFIX,
  SETTLE_RESOLVED_PREFIX,
  settleItemKey,
  settleResolvedKey,
} from '../../state/markets.ts';
import { MemoryState } from '../testing/fixtures.ts';
import { hasPrefix } from '../../state/keys.ts';
import { StateOverlay, type StateReader } from '../../state/overlay.ts';
import { executeBlock } from '../executor.ts';
import { testMarket, ZONE, type TestMarket } from '../testing/market.ts';
import type { BlockContext, HookRange } from '../types.ts';
import { marketSettlementHook, SETTLEMENT_UNITS, settleTrades } from './settlement.ts';
import { workBudget } from '../end-block.ts';
import { loadAsTheNode } from '../testing/staged-load.ts';
import { endBlockHooks } from '../registry.ts';

/** `n` trades of 100 Wh from pv-0 (checked by cm-0), delivered as disagreeing data: pv-0 reports n x 100 Wh, cm-0 half; the clock at their settlement. */
function disagreeing(n: number) {
  const t = testMarket({ checkMeter: true });
  const { c } = t;
  const s = t.sellers[0]!;
  const b = t.buyers[0]!;
  c.block(t.place(b, 'bid', BigInt(n) * 100n, 300n), ...Array.from({ length: n }, (_, i) => t.place(s, 'ask', 100n, 100n + BigInt(i), { offset: i })));
  t.toGate();
  c.block();
  t.deliver([
    ['pv-0', BigInt(n) * 100n],
    ['cm-0', BigInt(n) * 50n],
  ]);
  t.toSettlement();
  return t;
}

/** The same, frozen: the settlement block moved them all aside. */
function frozen(n: number) {
  const t = disagreeing(n);
  const { c } = t;
  c.block();
  expect([...c.state.iterate(SETTLE_HELD_PREFIX)]).toHaveLength(n);
  return t;
}

const resolve = (t: TestMarket) =>
  t.c.block(buildCheckMeterResolution({ ...t.c.sender(t.dso), deviceId: 'pv-0', intervalStartMs: t.I, resolution: 'check-meter' }));

const settledCount = (t: TestMarket, n: number) =>
  Array.from({ length: n }, (_, seq) => getSettlement(t.c.state, marketId(ZONE, t.I), seq)).filter((x) => x !== undefined).length;

describe('held trades settle through resolution markers', () => {
  it('the resolution marks (interval, device) with its height; the held trades settle in the next block, not in the resolution block', () => {
    const t = frozen(2);
    const { c } = t;
    const start = t.money();
    expect([...c.state.iterate(SETTLE_RESOLVED_PREFIX)]).toHaveLength(0);
    const h = c.height;
    expect(resolve(t).receipts[0]!.success).toBe(true);
    expect(readU64be(c.state.get(settleResolvedKey(t.I, 'pv-0'))!)).toBe(h);
    expect(settledCount(t, 2)).toBe(0);
    expect([...c.state.iterate(SETTLE_HELD_PREFIX)]).toHaveLength(2);
    c.block();
    // cm-0's 100 Wh accepted: the first trade gets all of it.
    expect(getSettlement(c.state, marketId(ZONE, t.I), 0)).toMatchObject({ deliveredWh: 100n });
    expect(getSettlement(c.state, marketId(ZONE, t.I), 1)).toMatchObject({ deliveredWh: 0n });
    expect([...c.state.iterate(SETTLE_HELD_PREFIX)]).toHaveLength(0);
    expect([...c.state.iterate(SETTLE_RESOLVED_PREFIX)]).toHaveLength(0);
    expect(getDeviceTraded(c.state, t.I, 'pv-0')).toBe(200n);
    expect(t.money()).toBe(start);
  });

  it('a group larger than a block budget settles across blocks: progress carried, the marker deleted only with the last trade', () => {
    const t = frozen(5);
    const { c } = t;
    const start = t.money();
    resolve(t);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const o = new StateOverlay(c.state);
      settleTrades(o, c.ctx(), workBudget(2 * SETTLEMENT_UNITS.trade)); // two trades a block
      c.state.apply(o.changes());
      c.height++;
      seen.push(settledCount(t, 5));
      const marker = c.state.get(settleResolvedKey(t.I, 'pv-0'));
      if (i < 2) {
        expect(marker).toBeDefined();
        expect(getSettleProgress(c.state, t.I, 'pv-0')).toBeDefined();
        expect(getDeviceTraded(c.state, t.I, 'pv-0')).toBe(0n);
      } else {
        expect(marker).toBeUndefined();
        expect(getSettleProgress(c.state, t.I, 'pv-0')).toBeUndefined();
      }
    }
    expect(seen).toEqual([2, 4, 5]);
    // Allocation went on across blocks: 250 Wh accepted, trades of 100 each in order.
    const delivered = Array.from({ length: 5 }, (_, seq) => getSettlement(c.state, marketId(ZONE, t.I), seq)!.deliveredWh);
    expect(delivered).toEqual([100n, 100n, 50n, 0n, 0n]);
    expect(getDeviceTraded(c.state, t.I, 'pv-0')).toBe(500n);
    expect(t.money()).toBe(start);
  });

  it("the node's staged loads (declaration, dependent, next) cover the settlement of a resolved group under the strict guard", () => {
    const t = frozen(3);
    const { c } = t;
    resolve(t);
    return (async () => {
      const ctx = c.ctx();
      const loaded = await loadAsTheNode(c.state, [], ctx);
      const r = executeBlock(loaded, [], ctx, { strictAccess: true });
      expect(r.events.filter((e) => e.type === 'trade-settled')).toHaveLength(3);
    })();
  });
});

/** Frozen groups held and unresolved: `n` devices' trades of one interval. */
function heldState(n: number): MemoryState {
  const state = new MemoryState();
  for (let i = 0; i < n; i++) {
    const id = new Uint8Array(32).fill(i % 256);
    id[0] = i >> 8;
    const trade = {
      seq: i,
      bidId: id,
      askId: id.map((x) => x ^ 0xff),
      buyer: id.subarray(0, 20),
      seller: id.subarray(12),
      deviceId: `pv-${i}`,
      volumeWh: 100n,
    };
    state.set(settleItemKey(MarketBucket.settleHeld, 1_700_000_000_000, `pv-${i}`, ZONE, i), encodeTrade(trade));
  }
  return state;
}

/** How many entries and keys the settlement hook's declarations make a block load from `state`. */
function declaredLoad(state: StateReader, ctx: BlockContext): number {
  const h = marketSettlementHook;
  const stages = [
    { keys: h.keys?.(ctx) ?? [], prefixes: h.prefixes(ctx), ranges: h.ranges?.(ctx) ?? [] },
    h.dependent?.(ctx, state),
    h.dependentNext?.(ctx, state),
  ];
  let n = 0;
  const count = (p: Uint8Array) => [...state.iterate(p)].filter(([k]) => hasPrefix(k, p)).length;
  for (const s of stages) {
    if (s === undefined) continue;
    n += s.keys.length;
    for (const p of s.prefixes) n += count(p);
    for (const r of (s.ranges ?? []) as HookRange[]) n += Math.min(r.limit, count(r.prefix));
  }
  return n;
}

describe('what a block reads does not grow with the trades held', () => {
  it('10 or 1,000 frozen trades held and unresolved: the same declared reads', () => {
    const ctx: BlockContext = { chainId: 'test', params: DEVNET_PARAMS, height: 100, timestamp: 1_800_000_000_000, proposer: new Uint8Array(20) };
    expect([...heldState(1000).iterate(SETTLE_HELD_PREFIX)]).toHaveLength(1000);
    expect(declaredLoad(heldState(1000), ctx)).toBe(declaredLoad(heldState(10), ctx));
  });
});

describe('a frozen group the budget splits between the queue and the held bucket', () => {
  /**
   * `n` trades frozen as in frozen(), but the block at settlement time moves only `moved`
   * of them aside (its settlement budget runs out): the rest stays queued, frozen too.
   */
  function split(n: number, moved: number) {
    const t = disagreeing(n);
    const { c } = t;
    const hooks = endBlockHooks().map((h) => (h.name === marketSettlementHook.name ? { ...h, workPerBlock: moved } : h));
    const r = executeBlock(c.state, [], c.ctx(), { endBlockHooks: hooks });
    c.state.apply(r.changes);
    c.height++;
    expect([...c.state.iterate(SETTLE_HELD_PREFIX)]).toHaveLength(moved);
    expect([...c.state.iterate(SETTLE_QUEUE_PREFIX)]).toHaveLength(n - moved);
    return t;
  }

  const delivered = (t: TestMarket, n: number) => Array.from({ length: n }, (_, seq) => getSettlement(t.c.state, marketId(ZONE, t.I), seq)?.deliveredWh);

  it('resolved, both parts settle as one group: the accepted Wh allocated once, in trade order, and money conserved', () => {
    const t = split(5, 2);
    const { c } = t;
    const start = t.money();
    resolve(t);
    for (let i = 0; i < 3; i++) c.block();
    // cm-0's 250 Wh accepted, allocated to trades of 100 Wh in trade order, once: the
    // queued rest never settles on its own from zero (which delivered [0, 0, 100, 100, 50]).
    expect(delivered(t, 5)).toEqual([100n, 100n, 50n, 0n, 0n]);
    expect([...c.state.iterate(SETTLE_HELD_PREFIX)]).toHaveLength(0);
    expect([...c.state.iterate(SETTLE_QUEUE_PREFIX)]).toHaveLength(0);
    expect([...c.state.iterate(SETTLE_RESOLVED_PREFIX)]).toHaveLength(0);
    expect(getSettleProgress(c.state, t.I, 'pv-0')).toBeUndefined();
    expect(getDeviceTraded(c.state, t.I, 'pv-0')).toBe(500n);
    expect(t.money()).toBe(start);
  });

  it("the node's staged loads cover every block of it under the strict guard", async () => {
    const t = split(5, 2);
    const { c } = t;
    resolve(t);
    let settled = 0;
    for (let i = 0; i < 3; i++) {
      const ctx = c.ctx();
      const r = executeBlock(await loadAsTheNode(c.state, [], ctx), [], ctx, { strictAccess: true });
      c.state.apply(r.changes);
      c.height++;
      settled += r.events.filter((e) => e.type === 'trade-settled').length;
    }
    expect(settled).toBe(5);
    expect(delivered(t, 5)).toEqual([100n, 100n, 50n, 0n, 0n]);
  });
});
