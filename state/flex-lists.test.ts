import { afterEach, describe, expect, it } from 'vitest';
import { flexIntervalKey } from '../core/state-keys.ts';
import { testFleet } from '../vm/testing/flex.ts';
import { loadAndListFlexActivations, loadAndListFlexBids, loadAndListFlexIntervals } from './flex-lists.ts';
import { removeTempDirs, withStrictState } from './testing/store.ts';
import type { WorldState } from './world-state.ts';

afterEach(removeTempDirs);

/**
 * A real fleet (vm/testing/flex.ts): two bids, two activations of the first (one lapsed,
 * one settled over two intervals); every listing runs on a strict LevelDB state, so it
 * reads nothing but the page it loaded.
 */
const strict = (entries: Iterable<readonly [Uint8Array, Uint8Array]>, use: (ws: WorldState) => Promise<void>) => withStrictState('flex-lists', entries, use);

function fleet() {
  const f = testFleet();
  const { c, A, iv } = f;
  const bid = f.bid();
  c.block(bid);
  const other = f.bid({ capacityKw: 10 });
  c.block(other);
  const lapsed = f.activate(bid.hash, 100, A, A + iv);
  c.block(lapsed);
  c.advance(31_000);
  c.block();
  const settled = f.activate(bid.hash, 100, A + 2 * iv, A + 4 * iv);
  c.block(settled);
  c.block(f.confirm(settled.hash));
  f.to(A + 4 * iv + c.ctx().params.settlementDelayMs);
  c.block();
  c.block();
  c.block();
  return { f, bid, other, lapsed, settled };
}

describe('flexibility listings on a strict state', () => {
  it('an aggregator’s bids by id, a bid’s activations by window, an activation’s settled intervals; pages with cursors', async () => {
    const { f, bid, other, lapsed, settled } = fleet();
    const { A, iv } = f;
    await strict(f.c.state.iterate(new Uint8Array(0)), async (ws) => {
      const first = await loadAndListFlexBids(await ws.load({}), f.agg.address, { limit: 1 });
      expect(first.items).toHaveLength(1);
      expect(first.next).toBeDefined();
      const rest = await loadAndListFlexBids(await ws.load({}), f.agg.address, { limit: 10, after: first.next! });
      expect([...first.items, ...rest.items].map((b) => Buffer.from(b.id).toString('hex')).sort()).toEqual(
        [bid.hash, other.hash].map((h) => Buffer.from(h).toString('hex')).sort(),
      );
      expect(rest.next).toBeUndefined();
      expect((await loadAndListFlexBids(await ws.load({}), f.dso.address, { limit: 10 })).items).toHaveLength(0);

      const acts = await loadAndListFlexActivations(await ws.load({}), bid.hash, { limit: 10 });
      expect(acts.items.map((a) => [a.id, a.activation.status])).toEqual([
        [lapsed.hash, 'lapsed'],
        [settled.hash, 'settled'],
      ]);

      const intervals = await loadAndListFlexIntervals(await ws.load({}), settled.hash, { limit: 10 });
      expect(intervals.items.map((i) => i.intervalStartMs)).toEqual([A + 2 * iv, A + 3 * iv]);
      expect(intervals.items[0]!.key).toEqual(flexIntervalKey(settled.hash, A + 2 * iv));
      // 100 kW reached at 500 kW/min after 12 s: 100 x (30 - 12 / 2) s = 666.7 Wh, down.
      expect(intervals.items[0]!.result).toMatchObject({ targetWh: 666n, deliveredWh: 0n });
    });
  });
});
