/**
 * An emergency validator-set transition in the middle of a run, as operators make one
 * (node/chain/transitions.ts, `joule validators transition`): some members are lost for
 * good, every remaining node is stopped, and all of them restart with a new set for the
 * height after the highest honest head. Unlike a scheduled transition (scenario.ts), the
 * nodes were already running that height under the old set: their WALs hold its rounds,
 * prepared certificates and signed messages, and the old set's messages are still in
 * flight. That is where a survivor once kept a prepared certificate only the old set
 * could prove, and the height never ended (consensus/machine.ts, restoreHeight).
 *
 * The omniscient operator picks the height after the highest head of any honest node and
 * never loses the node that holds it, so the blocks up to it stay reachable by sync: the
 * new set's first block replaces nothing an honest node has stored.
 */
import { maxFaulty } from '../../core/validators.ts';
import { stop, type DriverWorld } from './driver.ts';
import type { MutableChainRules } from './sim-chain.ts';
import type { SimNode } from './world.ts';

export interface EmergencyWorld extends DriverWorld {
  /** The transitions, which the emergency rewrites from its height on; the lost validators (with the height they count from), which it adds to. */
  readonly rules: MutableChainRules;
  /** The honest validator whose clock is too far ahead (faulty as a proposer), or -1. */
  readonly badClock: number;
}

/** Makes the transition now. */
export function emergencyTransition(w: EmergencyWorld): void {
  const r = w.rnd;
  const { transitions, lost } = w.rules;
  const honest = w.nodes.filter((x) => !x.byzantine && !lost.has(x.index));
  const top = Math.max(...honest.map((x) => x.chain.length));
  const height = top + 1;
  const holders = honest.filter((x) => x.chain.length === top);
  const keeper = holders[Math.floor(r() * holders.length)]!;
  const current = keeper.members.at(height);
  const members = drawMembers(w, current, keeper);
  for (const h of [...transitions.keys()]) if (h >= height) transitions.delete(h);
  transitions.set(height, members);
  for (const node of w.nodes) {
    stop(node);
    if (node !== keeper && current.includes(node.index) && !members.includes(node.index) && r() < 0.6) lost.set(node.index, height);
    else w.at(20 + Math.floor(r() * 300), { kind: 'restart', node: node.index });
  }
  w.stats.emergencies++;
}

/**
 * The new set: some of `current` kept (usually fewer than a quorum: what the transition is
 * for), perhaps the spare key added, never the same set, and never more faulty members
 * (Byzantine, or the clock that runs ahead) than the new set tolerates.
 */
function drawMembers(w: EmergencyWorld, current: readonly number[], keeper: SimNode): number[] {
  const r = w.rnd;
  const faulty = (i: number) => w.rules.byzantine.has(i) || w.rules.lost.has(i) || i === w.badClock;
  const tolerated = (members: readonly number[]) => members.length > 0 && members.filter(faulty).length <= maxFaulty(members.length);
  for (let attempt = 0; attempt < 16; attempt++) {
    const kept = current.filter(() => r() < 0.5);
    const added = w.nodes.map((x: SimNode) => x.index).filter((i) => !current.includes(i) && r() < 0.3);
    const members = [...kept, ...added].sort((a, b) => a - b);
    const same = members.length === current.length && members.every((m, i) => m === current[i]);
    if (!same && tolerated(members)) return members;
  }
  // A set of one honest validator (its clock cannot make its own proposals premature to itself).
  return [keeper.index];
}
