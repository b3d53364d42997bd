/**
 * The wires between the simulated nodes: which pairs can reach each other (partitions, and
 * sync bans, which cut a link both ways until they expire), and the routing of every sent
 * message through the adversary, which picks each copy's fate and delay.
 */
import { toHex } from '../../core/bytes.ts';
import { decodeMessage, type ConsensusMessage } from '../../consensus/messages.ts';
import { proposerIndex } from '../../consensus/proposer.ts';
import type { Adversary } from './adversary.ts';
import type { SimEvent, SimNode } from './world.ts';

/** What the network needs from the simulation. */
interface NetworkWorld {
  readonly nodes: readonly SimNode[];
  readonly adversary: Adversary;
  readonly now: number;
  readonly healed: boolean;
  at(delay: number, e: SimEvent): void;
}

export class Network {
  private readonly w: NetworkWorld;
  private partition: number[] | null = null;
  private readonly bannedUntil = new Map<string, number>();
  private readonly indexOf: Map<string, number>;
  private readonly everyone: number[];
  private readonly decodings = new WeakMap<Uint8Array, ConsensusMessage | null>();

  constructor(w: NetworkWorld) {
    this.w = w;
    this.indexOf = new Map(w.nodes.map((x) => [toHex(x.key.validator.address), x.index]));
    this.everyone = w.nodes.map((x) => x.index);
  }

  linked(a: number, b: number): boolean {
    if (this.partition !== null && this.partition[a] !== this.partition[b]) return false;
    const now = this.w.now;
    return (this.bannedUntil.get(`${a}:${b}`) ?? 0) <= now && (this.bannedUntil.get(`${b}:${a}`) ?? 0) <= now;
  }

  ban(by: number, peer: number, until: number): void {
    this.bannedUntil.set(`${by}:${peer}`, until);
  }

  /** Splits the nodes into `groups` (a group number per node; null: one network). Returns the split before. */
  repartition(groups: number[] | null): number[] | null {
    const before = this.partition;
    this.partition = groups;
    return before;
  }

  /** The heal: one network, and every ban lifted. Returns the split before. */
  heal(): number[] | null {
    const before = this.repartition(null);
    this.bannedUntil.clear();
    return before;
  }

  /** Every recipient of one sent buffer shares its decoding (a real node decodes each copy; the result is the same). */
  decodedOnce(bytes: Uint8Array): ConsensusMessage | undefined {
    if (this.decodings.has(bytes)) return this.decodings.get(bytes) ?? undefined;
    let m: ConsensusMessage | null = null;
    try {
      m = decodeMessage(bytes);
    } catch {
      // garbage: the machine rejects it itself
    }
    this.decodings.set(bytes, m);
    return m ?? undefined;
  }

  /** Sends bytes from `from` to `to` (a Byzantine node's own sends). */
  send(from: number, to: number, bytes: Uint8Array): void {
    this.sendTo(from, [to], bytes, this.decodedOnce(bytes) ?? null);
  }

  /** Sends a machine's message to every other node. */
  broadcast(from: number, bytes: Uint8Array, m: ConsensusMessage): void {
    this.sendTo(from, this.everyone, bytes, m);
  }

  /** Sends one message, decoded once by the caller, to several recipients. */
  sendTo(from: number, targets: readonly number[], bytes: Uint8Array, m: ConsensusMessage | null): void {
    this.decodings.set(bytes, m);
    // The adversary's strategies need the proposers, members and quorum of the sender's height as the sender sees them.
    const view = this.w.nodes[from]!;
    const h = view.chain.length + 1;
    const set = view.members.set(h);
    const proposerOf = (height: number, r: number): number => {
      if (height !== h) return -1;
      const address = set.at(proposerIndex(set, view.chain.at(-1)?.block.header.proposer ?? null, r)).address;
      return this.indexOf.get(toHex(address)) ?? -1;
    };
    for (const to of targets) {
      if (to === from || !this.linked(from, to)) continue;
      for (const d of this.w.adversary.route(from, to, m, this.w.healed, proposerOf, view.members.at(h), set.quorum))
        this.w.at(d, { kind: 'deliver', from, to, bytes });
    }
  }
}
