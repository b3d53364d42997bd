/**
 * The network adversary of the simulation: it decides, per message, whether and when each
 * recipient gets it. Besides random delay, loss, duplication and partitions it has
 * strategies aimed at QBFT's quorum intersections, since random scheduling alone never
 * produced the review's counterexample (issue 6, finding 1):
 * - 'quorum-picker': the proposer of each round hears the ROUND-CHANGEs of one chosen quorum
 *   only, so which prepared certificate it sees is the adversary's choice;
 * - 'lonely-commit': each COMMIT reaches one chosen validator only, so commits of different
 *   rounds accumulate at different nodes;
 * - 'split-prepare': PROPOSALs and PREPAREs reach chosen subsets;
 * - 'alternate': the three above composed into the review's schedule: in each round the
 *   PREPAREs reach one chosen validator only (the round's only committer), COMMITs of a
 *   block reach one collector only, and the next proposer does not hear the ROUND-CHANGE
 *   of the round's committer, so it re-proposes the OTHER value prepared one round before.
 *   The prepared value alternates between two blocks and their commits pile up, round after
 *   round, at two different nodes. (Found the cross-round certificate of finding 1.)
 * Every choice comes from the seeded PRNG. After the heal the network is reliable and fast.
 */
import type { ConsensusMessage } from '../../consensus/messages.ts';
import { quorumSize as quorumOf } from '../../core/validators.ts';

export type Strategy = 'random' | 'quorum-picker' | 'lonely-commit' | 'split-prepare' | 'alternate' | 'all';
export const STRATEGIES: readonly Strategy[] = ['random', 'quorum-picker', 'lonely-commit', 'split-prepare', 'alternate', 'alternate', 'all'];

export interface AdversaryParams {
  readonly strategy: Strategy;
  readonly drop: number;
  readonly dup: number;
  readonly maxDelay: number;
}

export class Adversary {
  readonly params: AdversaryParams;
  private readonly rnd: () => number;
  private readonly n: number;
  /** Per (height, round): the chosen subsets, fixed at first use so they are consistent. */
  private readonly choices = new Map<string, number[]>();
  /** 'alternate': per height, the committer of each round, the collector of each block, who committed what. */
  private readonly committers = new Map<string, number[]>();
  private readonly collector = new Map<string, number>();
  private readonly committedBy = new Map<string, Set<number>>();

  constructor(rnd: () => number, n: number) {
    this.rnd = rnd;
    this.n = n;
    const strategy = STRATEGIES[Math.floor(rnd() * STRATEGIES.length)]!;
    // 'alternate' needs each round to complete before its timer: short delays, few losses.
    const slow = strategy !== 'alternate';
    this.params = { strategy, drop: rnd() * (slow ? 0.3 : 0.05), dup: rnd() * 0.2, maxDelay: 1 + Math.floor(rnd() * (slow ? 150 : 20)) };
  }

  private has(s: Strategy): boolean {
    return this.params.strategy === s || this.params.strategy === 'all';
  }

  /** A fixed random subset of `size` of 0..n-1 for `key`. */
  private subset(key: string, size: number): number[] {
    let s = this.choices.get(key);
    if (s === undefined) {
      const all = Array.from({ length: this.n }, (_, i) => i);
      for (let i = all.length - 1; i > 0; i--) {
        const j = Math.floor(this.rnd() * (i + 1));
        [all[i], all[j]] = [all[j]!, all[i]!];
      }
      this.choices.set(key, (s = all.slice(0, size)));
      if (this.choices.size > 10_000) this.choices.delete(this.choices.keys().next().value!);
    }
    return s;
  }

  /**
   * Delays (ms) at which `to` receives the message sent by `from`: [] = lost, two = duplicated.
   * `proposerOfRound` tells who leads (height, round) in the sender's view; `members` are the
   * validators of the sender's height, `quorum` is that set's quorum.
   */
  route(
    from: number,
    to: number,
    m: ConsensusMessage | null,
    healed: boolean,
    proposerOfRound: (h: number, r: number) => number,
    members: readonly number[],
    quorum: number,
  ): number[] {
    const delay = () => 1 + Math.floor(this.rnd() * (healed ? 10 : this.params.maxDelay));
    if (healed) return [delay()];
    if (m !== null && this.params.strategy === 'alternate') {
      const d = this.alternate(from, to, m, proposerOfRound, members);
      return d === null ? [] : [d === 0 ? delay() : d];
    }
    if (m !== null && this.targetedDrop(from, to, m, proposerOfRound, quorum)) return [];
    if (this.rnd() < this.params.drop) return [];
    return this.rnd() < this.params.dup ? [delay(), delay()] : [delay()];
  }

  /** 'alternate' (see the file comment): null = lost, 0 = a normal delay, else this delay. */
  private alternate(
    from: number,
    to: number,
    m: ConsensusMessage,
    proposerOfRound: (h: number, r: number) => number,
    members: readonly number[],
  ): number | null {
    const deliver = (yes: boolean): number | null => (yes ? 0 : null);
    const digestKey = (d: Uint8Array) => `${m.height}:${Buffer.from(d).toString('hex')}`;
    switch (m.kind) {
      case 1: {
        // PREPAREs of a round reach its committers only: n - quorum who have not committed this block yet
        const key = `${m.height}/${m.round}`;
        let c = this.committers.get(key);
        if (c === undefined) {
          const done = this.committedBy.get(digestKey(m.digest)) ?? new Set();
          const previous = this.committers.get(`${m.height}/${m.round - 1}`) ?? [];
          // Not the next round's proposer either: it would hear its own prepared value and re-propose it.
          const next = proposerOfRound(m.height, m.round + 1);
          const pool = members.filter((i) => !done.has(i) && !previous.includes(i) && i !== next);
          c = [];
          for (let k = members.length - quorumOf(members.length); k > 0 && pool.length > 0; k--)
            c.push(pool.splice(Math.floor(this.rnd() * pool.length), 1)[0]!);
          if (c.length === 0) c.push(members[Math.floor(this.rnd() * members.length)]!);
          this.committers.set(key, c);
        }
        return deliver(c.includes(to));
      }
      case 2: {
        // a block's COMMITs, of every round, pile up at one collector, late (the schedule goes on meanwhile)
        const key = digestKey(m.digest);
        let done = this.committedBy.get(key);
        if (done === undefined) this.committedBy.set(key, (done = new Set()));
        done.add(from);
        let c = this.collector.get(key);
        if (c === undefined) this.collector.set(key, (c = members[Math.floor(this.rnd() * members.length)]!));
        return to === c ? 3000 + Math.floor(this.rnd() * 5000) : null;
      }
      case 3: // the next proposer does not hear the latest committers, so it re-proposes the other value
        return deliver(!(to === proposerOfRound(m.height, m.round) && (this.committers.get(`${m.height}/${m.round - 1}`) ?? []).includes(from)));
      default:
        return deliver(this.rnd() >= this.params.drop / 3);
    }
  }

  private targetedDrop(from: number, to: number, m: ConsensusMessage, proposerOfRound: (h: number, r: number) => number, quorum: number): boolean {
    const key = `${m.height}/${m.round}`;
    if (m.kind === 3 && this.has('quorum-picker') && to === proposerOfRound(m.height, m.round)) {
      return !this.subset(`rc:${key}`, quorum).includes(from);
    }
    if (m.kind === 2 && this.has('lonely-commit')) return !this.subset(`commit:${key}:${from}`, 1).includes(to);
    if ((m.kind === 0 || m.kind === 1) && this.has('split-prepare')) {
      const size = 1 + Math.floor(this.rnd() * this.n);
      return !this.subset(`${m.kind}:${key}:${from}`, size).includes(to);
    }
    return false;
  }
}
