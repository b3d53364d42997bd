/**
 * Deterministic simulation of a Joule validator cluster (issue 6): real QBFT machines, real
 * signatures, the real sync state machine, virtual time. Everything random comes from one
 * seed, so a failing seed replays exactly. What the adversary controls:
 * - the network (adversary.ts, routed by network.ts): delay, loss, duplication, partitions,
 *   and strategies that choose which quorum a proposer hears, where COMMITs land and who
 *   prepares;
 * - up to f Byzantine validators (byzantine.ts), who also lie to block sync (sync-driver.ts);
 * - crashes, also between a WAL write and the send after it, with restarts from the WAL
 *   (driver.ts);
 * - per-node clock skew, with block validation that depends on the local clock;
 * - validator-set changes by blocks (votes) and by scheduled transitions (scenario.ts draws
 *   these choices from the seed);
 * - with `emergencies` on, an emergency transition before the heal (emergency.ts): members
 *   lost for good, and every other node restarted from its WAL under a new set for the
 *   height it was running.
 * Invariants checked as it runs (invariants.ts): no two honest nodes store different blocks
 * at a height; every stored block's certificate verifies for the set of its height; no
 * honest node signs two different messages for one (height, round, kind); nothing is sent
 * before it is persisted; evidence and sync bans only ever hit Byzantine nodes. After the
 * heal (this file): every honest node finalises new heights, and the first new block comes
 * within a bound.
 */
import { mulberry32 } from '../../core/prng.ts';
import type { SyncEvent } from '../../node/sync/sync-machine.ts';
import type { Adversary } from './adversary.ts';
import { byzantineNoise } from './byzantine.ts';
import { byzView, crash, reconnected, restart, resend, start, stepNode, validate } from './driver.ts';
import { emergencyTransition, type EmergencyWorld } from './emergency.ts';
import { EventQueue } from './event-queue.ts';
import { Invariants } from './invariants.ts';
import { Network } from './network.ts';
import { drawCluster, drawFaults } from './scenario.ts';
import type { MutableChainRules } from './sim-chain.ts';
import { stepSync } from './sync-driver.ts';
import { TIMEOUT_MS, type SimEvent, type SimNode, type SimResult } from './world.ts';

/** The driver's rule: while stuck, re-send own messages this often (node/consensus/driver.ts). */
const RESEND_MS = 100;
const SYNC_TICK_MS = 100;
/** After the heal, the first new block must be final on every honest node within this. */
export const RECOVERY_BOUND_MS = 1000;

export interface SimulationOptions {
  /** An emergency validator-set transition at a random moment before the heal. */
  readonly emergencies?: boolean;
}

export class Simulation implements EmergencyWorld {
  readonly rnd: () => number;
  readonly n: number;
  readonly seed: number;
  readonly size: number;
  readonly nodes: SimNode[];
  readonly rules: MutableChainRules;
  readonly adversary: Adversary;
  readonly network: Network;
  readonly invariants: Invariants;
  readonly crashMidStep: number;
  readonly stats: SimResult;
  now = 0;
  healed = false;
  private readonly queue = new EventQueue<SimEvent>();
  /** The validator whose clock runs ahead beyond what the hold covers, or -1. */
  readonly badClock: number;
  private readonly emergencies: boolean;
  private healAt = 0;
  private healHeight = 0;
  private readonly firstAfterHeal = new Map<number, number>();

  constructor(n: number, seed: number, opts: SimulationOptions = {}) {
    this.n = n;
    this.emergencies = opts.emergencies === true;
    this.seed = seed;
    this.rnd = mulberry32(seed);
    const cluster = drawCluster(n, this.rnd);
    this.size = cluster.nodes.length;
    this.nodes = cluster.nodes;
    this.rules = cluster.rules;
    this.adversary = cluster.adversary;
    this.badClock = cluster.badClock;
    this.crashMidStep = cluster.crashMidStep;
    this.network = new Network(this);
    this.invariants = new Invariants(this.rules, this.nodes, (why) => this.fail(why));
    this.stats = {
      commits: 0,
      evidence: 0,
      crashes: 0,
      refused: 0,
      premature: 0,
      bans: 0,
      setChanges: 0,
      transitions: this.rules.transitions.size,
      emergencies: 0,
      recoveryMs: 0,
      recoveryRuns: 0,
      maxRoundAtHeal: 0,
      strategy: this.adversary.params.strategy,
    };
  }

  /** All honest with good clocks: the heal must be followed by a final block within RECOVERY_BOUND_MS. */
  private get promisesRecovery(): boolean {
    return this.rules.byzantine.size === 0 && this.badClock < 0;
  }

  fail(why: string): never {
    throw new Error(`seed ${this.seed} (n=${this.n}, ${this.adversary.params.strategy}) at t=${this.now}: ${why}`);
  }

  at(delay: number, e: SimEvent): void {
    this.queue.push(this.now + delay, e);
  }

  clock(node: SimNode): number {
    return 1_000_000 + this.now + node.skew;
  }

  /** Sends bytes from `from` to `to` through the adversarial network (a Byzantine node's sends). */
  send(from: number, to: number, bytes: Uint8Array): void {
    this.network.send(from, to, bytes);
  }

  stepSync(node: SimNode, event: SyncEvent): void {
    stepSync(this, node, event);
  }

  finalised(node: SimNode, height: number): void {
    if (this.healed && height > this.healHeight && !this.firstAfterHeal.has(node.index)) this.firstAfterHeal.set(node.index, this.now);
  }

  /** The honest nodes still in the run (not lost in an emergency transition): they must all finalise. */
  private honest(): SimNode[] {
    return this.nodes.filter((x) => !x.byzantine && !this.rules.lost.has(x.index));
  }

  run(): SimResult {
    const r = this.rnd;
    for (const node of this.nodes) start(this, node);
    const faults = drawFaults(r, this.size, this.adversary.params.strategy);
    this.healAt = faults.healAt;
    for (const { t, e } of faults.events) this.at(t, e);
    for (const node of this.nodes) this.at(1 + node.index, { kind: 'tick', node: node.index });
    if (this.nodes.some((x) => x.byzantine)) this.at(10 + Math.floor(r() * 200), { kind: 'noise' });
    if (this.emergencies) this.at(Math.floor(this.healAt * (0.2 + 0.7 * r())), { kind: 'emergency' });
    let target = Infinity;
    // Up to f faulty proposers in a row, each costing its round's (exponentially grown) timer.
    const deadline = this.healAt + 180_000;
    let ev: { t: number; e: SimEvent } | undefined;
    while ((ev = this.queue.pop()) !== undefined) {
      this.now = ev.t;
      if (!this.healed && this.now >= this.healAt) this.heal();
      if (this.healed && this.firstAfterHeal.size === this.honest().length && this.honest().every((x) => x.chain.length >= target)) break;
      if (this.now > deadline) {
        this.fail(
          `LIVENESS: after heal at ${this.healAt}, heights ${this.honest()
            .map((x) => x.chain.length)
            .join(',')} did not all reach ${target}`,
        );
      }
      if (this.healed) target = this.healHeight + 3;
      this.dispatch(ev.e);
    }
    const recovery = Math.max(...this.honest().map((x) => (this.firstAfterHeal.get(x.index) ?? Infinity) - this.healAt));
    if (this.promisesRecovery) {
      if (recovery > RECOVERY_BOUND_MS) this.fail(`RECOVERY: the first block after the heal took ${recovery} ms (bound ${RECOVERY_BOUND_MS} ms)`);
      this.stats.recoveryMs = recovery;
      this.stats.recoveryRuns = 1;
    }
    return this.stats;
  }

  private heal(): void {
    this.healed = true;
    const before = this.network.heal();
    for (const node of this.nodes) if (!node.up) restart(this, node);
    this.healHeight = Math.max(...this.honest().map((x) => x.chain.length));
    this.stats.maxRoundAtHeal = Math.max(...this.nodes.map((x) => x.machine?.currentRound ?? 0));
    reconnected(this, before, null);
  }

  private dispatch(e: SimEvent): void {
    switch (e.kind) {
      case 'deliver': {
        const node = this.nodes[e.to]!;
        if (!this.network.linked(e.from, e.to)) return;
        const decoded = this.network.decodedOnce(e.bytes);
        if (node.byzantine && decoded !== undefined) {
          node.captured.push(decoded);
          if (node.captured.length > 400) node.captured.shift();
        }
        stepNode(this, node, { type: 'message', bytes: e.bytes, decoded: this.network.decodedOnce(e.bytes) });
        return;
      }
      case 'step': {
        const node = this.nodes[e.node]!;
        if (node.incarnation === e.inc) stepNode(this, node, e.event);
        return;
      }
      case 'sync': {
        const node = this.nodes[e.node]!;
        if (node.incarnation === e.inc) this.stepSync(node, e.event);
        return;
      }
      case 'held-validate': {
        const node = this.nodes[e.node]!;
        if (node.incarnation === e.inc && node.up) validate(this, node, e.height, e.digest, e.block, false);
        return;
      }
      case 'crash':
        if (!this.healed) crash(this, this.nodes[e.node]!);
        return;
      case 'restart':
        if (!this.healed) restart(this, this.nodes[e.node]!);
        return;
      case 'emergency':
        if (!this.healed) emergencyTransition(this);
        return;
      case 'partition':
        if (this.healed) return;
        reconnected(this, this.network.repartition(e.groups), e.groups);
        return;
      case 'tick': {
        const node = this.nodes[e.node]!;
        this.at(Math.min(RESEND_MS, SYNC_TICK_MS), e);
        if (!node.up || node.machine === null) return;
        const stuck = node.machine.currentRound > 0 || this.now - node.heightSince > TIMEOUT_MS;
        if (stuck)
          resend(
            this,
            node,
            this.nodes.map((o) => o.index),
          );
        this.stepSync(node, { type: 'tick', now: this.clock(node), height: node.chain.length });
        return;
      }
      case 'noise':
        for (const b of this.nodes.filter((x) => x.byzantine)) byzantineNoise(this, byzView(b));
        this.at(20 + Math.floor(this.rnd() * (this.healed ? 400 : 150)), { kind: 'noise' });
        return;
    }
  }
}

/** Runs `count` seeds from `first`; throws (naming the seed) on the first violation. */
export function runSeeds(
  n: number,
  first: number,
  count: number,
  opts: SimulationOptions = {},
): { totals: Omit<SimResult, 'strategy'>; strategies: Record<string, number> } {
  const totals = {
    commits: 0,
    evidence: 0,
    crashes: 0,
    refused: 0,
    premature: 0,
    bans: 0,
    setChanges: 0,
    transitions: 0,
    emergencies: 0,
    recoveryMs: 0,
    recoveryRuns: 0,
    maxRoundAtHeal: 0,
  };
  const strategies: Record<string, number> = {};
  for (let seed = first; seed < first + count; seed++) {
    const r = new Simulation(n, seed, opts).run();
    for (const k of ['commits', 'evidence', 'crashes', 'refused', 'premature', 'bans', 'setChanges', 'transitions', 'emergencies', 'recoveryRuns'] as const)
      totals[k] += r[k];
    totals.recoveryMs = Math.max(totals.recoveryMs, r.recoveryMs);
    totals.maxRoundAtHeal = Math.max(totals.maxRoundAtHeal, r.maxRoundAtHeal);
    strategies[r.strategy] = (strategies[r.strategy] ?? 0) + 1;
  }
  return { totals, strategies };
}
