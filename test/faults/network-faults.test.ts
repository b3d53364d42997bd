import { describe, expect, it } from 'vitest';
import { CATCH_UP_MS, sleep, useFaultHarness } from './harness.ts';

/**
 * Network faults on 4 validators, each in its own network namespace, under transfer load
 * (test/faults/README.md). One cluster serves both scenarios; the checker runs after each.
 */
describe('faults across real processes: network partitions of 4 validators', () => {
  const harness = useFaultHarness();

  it('isolate one of 4 for 30 s: the other three keep finalising, and it catches up after the heal', async () => {
    const h = harness();
    const scenario = 'isolate one of 4 for 30 s';
    const lone = 3;
    const rest = h.others(lone);
    await h.begin();
    h.route({ load: rest });
    const cutAt = Date.now();
    await h.cluster.sandbox.isolate(lone);
    const loneAtCut = await h.heightNow(lone);
    await sleep(30_000);
    const healAt = Date.now();
    await h.cluster.sandbox.heal();

    expect(h.finalisedThroughout(rest, cutAt, healAt, 5000), 'the majority keeps finalising').toEqual([]);
    // Alone it has no quorum: at most a block whose commit seals were already on the wire.
    expect(h.monitor.maxHeightOf(lone, cutAt, healAt), 'the isolated node finalises nothing on its own').toBeLessThanOrEqual(loneAtCut + 1);
    const majorityTop = h.monitor.maxHeight(healAt);
    h.record(scenario, `blocks finalised by the other three during the isolation`, majorityTop - h.monitor.maxHeight(cutAt), 'blocks');

    const caughtUp = await h.monitor.waitAllAbove([lone], majorityTop, healAt, 90_000);
    h.record(scenario, 'heal to the isolated node past the head it missed (catch-up)', caughtUp - healAt);
    expect(caughtUp - healAt, 'catch-up time').toBeLessThanOrEqual(CATCH_UP_MS);
    const allNew = await h.monitor.waitAllAbove(h.all, majorityTop, healAt, 30_000);
    h.record(scenario, 'heal to a new finalised block on all nodes', allNew - healAt);
    await h.recordReconnect(scenario, healAt);
  }, 240_000);

  it('2|2 split for 30 s: nothing is finalised, and finality returns within 2 s + one block period after the heal', async () => {
    const h = harness();
    const scenario = '2|2 split for 30 s';
    await h.begin();
    const splitAt = Date.now();
    await h.cluster.sandbox.partition([
      [0, 1],
      [2, 3],
    ]);
    const topAtSplit = Math.max(...(await Promise.all(h.all.map((i) => h.heightNow(i)))));
    await sleep(30_000);
    const healAt = Date.now();
    await h.cluster.sandbox.heal();

    // Neither half has a quorum: at most a block already certified when the cut came.
    const topAtHeal = h.monitor.maxHeight(healAt);
    expect(topAtHeal, 'nothing finalised during the split').toBeLessThanOrEqual(topAtSplit + 1);

    const recovered = await h.monitor.waitAllAbove(h.all, topAtHeal, healAt, 120_000);
    const recoveryMs = recovered - healAt;
    h.record(scenario, 'heal to a new finalised block on all nodes', recoveryMs);
    await h.recordReconnect(scenario, healAt);
    h.record(
      scenario,
      'fewest peers any node had during the split',
      Math.min(...h.all.map((i) => h.monitor.minPeersOf(i, splitAt + 15_000, healAt) ?? 99)),
      'peers',
    );
    expect(recoveryMs, 'finality within 2 s + one block period of the heal').toBeLessThanOrEqual(2000 + h.blockPeriodMs);
  }, 240_000);
});
