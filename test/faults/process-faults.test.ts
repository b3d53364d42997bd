import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../core/prng.ts';
import { equivocations, lostFinalTxs } from './checker.ts';
import { CATCH_UP_MS, sleep, useFaultHarness } from './harness.ts';

const KILL_ROUNDS = 10;

/**
 * Process faults on 4 validators, each in its own network namespace, under transfer load
 * (test/faults/README.md): a paused proposer, and SIGKILLs of half the validators. One
 * cluster serves both scenarios; the checker runs after each.
 */
describe('faults across real processes: paused and killed validators', () => {
  const harness = useFaultHarness();

  it('pause the proposer for 20 s: the other three keep finalising, and it catches up when continued', async () => {
    const h = harness();
    const scenario = 'pause the proposer for 20 s';
    await h.begin();
    // Stop the node due to propose the next height, before that height is decided.
    let paused: number | undefined;
    for (let attempt = 0; attempt < 5 && paused === undefined; attempt++) {
      const next = await h.cluster.nextProposer(0);
      h.cluster.nodes[next.node]!.pause();
      const { height } = await h.cluster.status(h.others(next.node)[0]!);
      if (height < next.height) paused = next.node;
      else h.cluster.nodes[next.node]!.resume();
    }
    expect(paused, 'caught the next proposer before its height was decided').toBeDefined();
    const pausedAt = Date.now();
    const rest = h.others(paused!);
    h.route({ load: rest, readable: rest });
    await sleep(20_000);
    const resumeAt = Date.now();
    h.cluster.nodes[paused!]!.resume();

    expect(h.finalisedThroughout(rest, pausedAt, resumeAt, 5000), 'the other three keep finalising').toEqual([]);
    const top = h.monitor.maxHeight(resumeAt);
    h.record(scenario, 'blocks finalised by the other three during the pause', top - h.monitor.maxHeight(pausedAt), 'blocks');
    const caughtUp = await h.monitor.waitAllAbove([paused!], top, resumeAt, 90_000);
    h.record(scenario, 'SIGCONT to the paused node past the head it missed (catch-up)', caughtUp - resumeAt);
    expect(caughtUp - resumeAt, 'catch-up time').toBeLessThanOrEqual(CATCH_UP_MS);
    const allNew = await h.monitor.waitAllAbove(h.all, top, resumeAt, 30_000);
    h.record(scenario, 'SIGCONT to a new finalised block on all nodes', allNew - resumeAt);
  }, 240_000);

  it(`SIGKILL 2 of 4 validators ${KILL_ROUNDS} times at random instants under load: nothing final lost, no fork, no double signing`, async () => {
    const h = harness();
    const scenario = `SIGKILL 2 of 4, ${KILL_ROUNDS} times`;
    // Printed with every failure; JOULE_TEST_SEED replays the same victims and instants.
    const seed = Number(process.env.JOULE_TEST_SEED ?? Date.now() % 1_000_000);
    const random = mulberry32(seed);
    const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo));
    console.log(`[faults] ${scenario}: seed ${seed}`);
    await h.begin();
    let checkedUpTo = Date.now();
    const recoveries: number[] = [];

    for (let round = 0; round < KILL_ROUNDS; round++) {
      const a = between(0, 4);
      const b = (a + between(1, 4)) % 4;
      await sleep(between(0, 1500));
      // A node's evidence counter dies with it: read the victims' before they go.
      const victims = [a, b].map((i) => ({ url: h.cluster.url(i), metrics: h.cluster.nodes[i]!.spec.metricsUrl, name: h.cluster.nodes[i]!.name }));
      expect(
        await equivocations(
          victims.map((v) => v.url),
          victims.map((v) => v.metrics),
          victims.map((v) => v.name),
        ),
        `seed ${seed}, round ${round}`,
      ).toEqual([]);
      const killAt = Date.now();
      await h.cluster.nodes[a]!.kill('SIGKILL');
      await sleep(between(0, 500));
      const killBAt = Date.now();
      await h.cluster.nodes[b]!.kill('SIGKILL');
      const survivors = h.others(a, b);
      h.route({ load: survivors, readable: survivors });
      await sleep(between(200, 2000));

      await Promise.all([a, b].map((i) => h.cluster.nodes[i]!.start(60_000)));
      const restartedAt = Date.now();
      // Everything reported final before a node's kill is still there after its restart.
      for (const [i, at] of [
        [a, killAt],
        [b, killBAt],
      ] as const) {
        const finals = h.ledger.txsLearnt(checkedUpTo, at);
        expect(
          await lostFinalTxs(h.cluster.url(i), h.cluster.nodes[i]!.name, finals),
          `seed ${seed}, round ${round}: final txs kept by the killed node`,
        ).toEqual([]);
      }
      checkedUpTo = killAt;
      h.route({ load: h.all });
      const top = h.monitor.maxHeight(restartedAt);
      const recovered = await h.monitor.waitAllAbove(h.all, top, restartedAt, 60_000).catch((e: Error) => {
        throw new Error(`seed ${seed}, round ${round} (killed ${a} and ${b}): ${e.message}\n${h.cluster.logTails(8)}`);
      });
      recoveries.push(recovered - restartedAt);
    }
    h.record(scenario, 'restart to a new finalised block on all nodes, worst', Math.max(...recoveries));
    h.record(scenario, 'restart to a new finalised block on all nodes, median', [...recoveries].sort((x, y) => x - y)[Math.floor(recoveries.length / 2)]!);
  }, 400_000);
});
