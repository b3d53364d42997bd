/**
 * What the seed decides before a run plays out: the cluster (who is Byzantine, whose clock
 * is off, which validator-set transition is scheduled, the network strategy) and the faults
 * (crashes, restarts and partitions before the heal, and when the heal comes). The draws
 * happen in a fixed order from the run's one PRNG, so a seed names one scenario.
 */
import { maxFaulty } from '../../core/validators.ts';
import { testValidators } from '../../consensus/testing/fixtures.ts';
import { Adversary, type Strategy } from './adversary.ts';
import { MemberHistory, withinFaultBound, type MutableChainRules } from './sim-chain.ts';
import { TIMEOUT_MS, type SimEvent, type SimNode } from './world.ts';

interface Cluster {
  readonly rules: MutableChainRules;
  readonly adversary: Adversary;
  /** The validator whose clock runs ahead beyond what the hold covers, or -1. */
  readonly badClock: number;
  /** The chance, per WAL write before the heal, of a crash before the send after it. */
  readonly crashMidStep: number;
  /** n validators and one spare key, which joins by vote or transition. */
  readonly nodes: SimNode[];
}

export function drawCluster(n: number, r: () => number): Cluster {
  const size = n + 1;
  const { keys } = testValidators(size);
  const initial = Array.from({ length: n }, (_, i) => i);
  const byzantine = new Set<number>();
  const f = maxFaulty(n);
  // Some runs are all honest: only they can promise a recovery time (a Byzantine proposer
  // of the round at the heal costs that round's whole, exponentially grown, timer).
  const byzCount = f === 0 || r() < 0.3 ? 0 : 1 + Math.floor(r() * f);
  while (byzantine.size < byzCount) byzantine.add(Math.floor(r() * n));
  const transitions = new Map<number, readonly number[]>();
  if (r() < 0.3) {
    const members = [...initial, n];
    if (r() < 0.5) {
      const honest = initial.filter((i) => !byzantine.has(i));
      members.splice(members.indexOf(honest[Math.floor(r() * honest.length)]!), 1);
    }
    if (withinFaultBound({ universe: [], byzantine, lost: new Map(), initial, transitions, maxClockDriftMs: 0 }, members, 0))
      transitions.set(3 + Math.floor(r() * 6), members);
  }
  const drift = [0, 5, 50][Math.floor(r() * 3)]!;
  // Good clocks differ by at most the allowed drift plus the driver's hold (a proposal is
  // then held, never 'premature'). One honest validator may have a clock that runs ahead
  // by more: its proposals are 'premature' to the others, so as a proposer it is faulty,
  // and it counts against f with the Byzantine ones (QBFT promises liveness only then).
  const skewBound = Math.floor((drift + TIMEOUT_MS) / 2) - 1;
  const honestMembers = initial.filter((i) => !byzantine.has(i));
  const badClock = (f === 0 || byzCount < f) && r() < 0.2 ? honestMembers[Math.floor(r() * honestMembers.length)]! : -1;
  const rules: MutableChainRules = { universe: keys.map((k) => k.validator), byzantine, lost: new Map(), initial, transitions, maxClockDriftMs: drift };
  const adversary = new Adversary(r, size);
  const crashMidStep = r() * 0.02;
  const nodes = keys.map(
    (key, index): SimNode => ({
      index,
      peer: `p${String(index).padStart(2, '0')}`,
      key,
      byzantine: byzantine.has(index),
      skew: index === badClock ? 2 * skewBound + 1 + Math.floor(r() * 4 * skewBound) : Math.floor((r() * 2 - 1) * skewBound),
      up: true,
      incarnation: 0,
      machine: null,
      sync: null,
      wal: [],
      chain: [],
      members: new MemberHistory(rules),
      persisted: new Set(),
      captured: [],
      received: new Map(),
      heightSince: 0,
      resendTo: null,
    }),
  );
  return { rules, adversary, badClock, crashMidStep, nodes };
}

interface Faults {
  readonly healAt: number;
  /** In the order they are to be queued (ties run in queue order). */
  readonly events: readonly { readonly t: number; readonly e: SimEvent }[];
}

/** Crashes (most followed by a restart) and partitions before the heal, for `size` nodes. */
export function drawFaults(r: () => number, size: number, strategy: Strategy): Faults {
  const events: { t: number; e: SimEvent }[] = [];
  // The 'alternate' schedule needs rounds that complete: fewer crashes, no partitions.
  const scheduled = strategy === 'alternate';
  // Most runs heal within a few seconds; some partitions outlast many exponential round timers.
  const longPartition = r() < 0.15;
  let healAt = longPartition ? 8000 + Math.floor(r() * 12_000) : 1500 + Math.floor(r() * 3000);
  if (scheduled) healAt = 7000 + Math.floor(r() * 6000); // room for ~6 rounds of the schedule
  for (let i = Math.floor(r() * (scheduled ? 2 : 4)); i > 0; i--) {
    const node = Math.floor(r() * size);
    const t = Math.floor(r() * healAt);
    events.push({ t, e: { kind: 'crash', node } });
    if (r() < 0.7) events.push({ t: t + 50 + Math.floor(r() * 1500), e: { kind: 'restart', node } });
  }
  const partitions = longPartition ? 1 : scheduled ? 0 : Math.floor(r() * 3);
  for (let i = partitions; i > 0; i--) {
    const t = longPartition ? Math.floor(r() * 1000) : Math.floor(r() * healAt);
    events.push({ t, e: { kind: 'partition', groups: Array.from({ length: size }, () => (r() < 0.5 ? 0 : 1)) } });
    if (!longPartition) events.push({ t: t + 100 + Math.floor(r() * 1500), e: { kind: 'partition', groups: null } });
  }
  return { healAt, events };
}
