/**
 * Deterministic simulation of a Joule validator cluster (issue 6): real QBFT machines, real
 * signatures, the real sync state machine, virtual time. Everything random comes from one
 * seed, so a failing seed replays exactly. What the adversary controls:
 * - the network (adversary.ts): delay, loss, duplication, partitions, and strategies that
 *   choose which quorum a proposer hears, where COMMITs land and who prepares;
 * - up to f Byzantine validators (byzantine.ts), who also lie to block sync;
 * - crashes, also between a WAL write and the send after it, with restarts from the WAL;
 * - per-node clock skew, with block validation that depends on the local clock;
 * - validator-set changes by blocks (votes) and by scheduled transitions.
 * Invariants checked as it runs: no two honest nodes store different blocks at a height;
 * every stored block's certificate verifies for the set of its height; no honest node signs
 * two different messages for one (height, round, kind); nothing is sent before it is
 * persisted; evidence and sync bans only ever hit Byzantine nodes. After the heal: every
 * honest node finalises new heights, and the first new block comes within a bound.
 */
import type { CommitCertificate } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { mulberry32 } from '../../core/prng.ts';
import { maxFaulty } from '../../core/validators.ts';
import { verifyCertificate } from '../../consensus/certificate.ts';
import { verifyEvidence } from '../../consensus/evidence.ts';
import { QbftMachine } from '../../consensus/machine.ts';
import { decodeMessage, type ConsensusMessage } from '../../consensus/messages.ts';
import { messageSigningBytes } from '../../core/signed-core.ts';
import { proposerIndex } from '../../consensus/proposer.ts';
import { CHAIN_ID, cachingCrypto, testValidators, type TestValidator } from '../../consensus/testing/fixtures.ts';
import type { ConsensusAction, ConsensusEvent } from '../../consensus/types.ts';
import { decodeWalRecord } from '../../consensus/wal-record.ts';
import { SyncMachine, type SyncAction, type SyncEvent } from '../../node/sync/sync-machine.ts';
import { Adversary } from './adversary.ts';
import { byzantineNoise, byzantineRewrite, type ByzantineWorld } from './byzantine.ts';
import { EventQueue } from './event-queue.ts';
import {
  applyChange,
  decodeSimBlock,
  encodeSimBlock,
  invalidReason,
  makeHeader,
  MemberHistory,
  withinFaultBound,
  type ChainRules,
  type ParentView,
  type SetChange,
  type SimBlock,
} from './sim-chain.ts';

export const crypto = cachingCrypto();
export const TIMEOUT_MS = 100;
const BLOCK_PERIOD_MS = 150;
/** The driver's rule: while stuck, re-send own messages this often (node/consensus/driver.ts). */
const RESEND_MS = 100;
const SYNC_TICK_MS = 100;
const BAN_MS = 3000;
/** After the heal, the first new block must be final on every honest node within this. */
export const RECOVERY_BOUND_MS = 1000;

interface Stored {
  readonly block: SimBlock;
  readonly cert: CommitCertificate;
}

interface SimNode {
  readonly index: number;
  readonly peer: string;
  readonly key: TestValidator;
  readonly byzantine: boolean;
  readonly skew: number;
  up: boolean;
  incarnation: number;
  machine: QbftMachine | null;
  sync: SyncMachine | null;
  wal: { height: number; bytes: Uint8Array }[];
  readonly chain: Stored[];
  members: MemberHistory;
  readonly persisted: Set<string>;
  readonly captured: ConsensusMessage[];
  /** Blocks received from a peer, waiting for the sync machine's `import`. */
  readonly received: Map<string, Stored[]>;
  heightSince: number;
  resendTo: number[] | null;
}

type SimEvent =
  | { kind: 'deliver'; from: number; to: number; bytes: Uint8Array }
  | { kind: 'step'; node: number; inc: number; event: ConsensusEvent }
  | { kind: 'sync'; node: number; inc: number; event: SyncEvent }
  | { kind: 'held-validate'; node: number; inc: number; height: number; digest: Uint8Array; block: Uint8Array }
  | { kind: 'crash'; node: number }
  | { kind: 'restart'; node: number }
  | { kind: 'partition'; groups: number[] | null }
  | { kind: 'tick'; node: number }
  | { kind: 'noise' };

export interface SimResult {
  commits: number;
  evidence: number;
  crashes: number;
  refused: number;
  premature: number;
  bans: number;
  setChanges: number;
  transitions: number;
  recoveryMs: number;
  recoveryRuns: number;
  maxRoundAtHeal: number;
  strategy: string;
}

export class Simulation implements ByzantineWorld {
  readonly rnd: () => number;
  readonly n: number;
  readonly seed: number;
  readonly size: number;
  readonly nodes: SimNode[];
  readonly rules: ChainRules;
  readonly adversary: Adversary;
  now = 0;
  healed = false;
  private readonly queue = new EventQueue<SimEvent>();
  private partition: number[] | null = null;
  private readonly bannedUntil = new Map<string, number>();
  private readonly decided = new Map<number, string>();
  private readonly signedBy = new Map<string, string>();
  private readonly crashMidStep: number;
  private healAt = 0;
  private readonly indexOf: Map<string, number>;
  private readonly everyone: number[];
  /** The validator whose clock runs ahead beyond what the hold covers, or -1. */
  private readonly badClock: number;
  private healHeight = 0;
  private readonly firstAfterHeal = new Map<number, number>();
  readonly stats: SimResult;

  constructor(n: number, seed: number) {
    this.n = n;
    this.seed = seed;
    this.rnd = mulberry32(seed);
    const r = this.rnd;
    this.size = n + 1; // one spare key: joins by vote or transition
    const { keys } = testValidators(this.size);
    const initial = Array.from({ length: n }, (_, i) => i);
    const byzantine = new Set<number>();
    const f = maxFaulty(n);
    // Some runs are all honest: only they can promise a recovery time (a Byzantine proposer
    // of the round at the heal costs that round's whole, exponentially grown, timer).
    const byzCount = f === 0 || r() < 0.3 ? 0 : 1 + Math.floor(r() * f);
    while (byzantine.size < byzCount) byzantine.add(Math.floor(r() * n));
    const transitions = new Map<number, number[]>();
    if (r() < 0.3) {
      const members = [...initial, n];
      if (r() < 0.5) {
        const honest = initial.filter((i) => !byzantine.has(i));
        members.splice(members.indexOf(honest[Math.floor(r() * honest.length)]!), 1);
      }
      if (withinFaultBound({ universe: [], byzantine, initial, transitions, maxClockDriftMs: 0 }, members)) transitions.set(3 + Math.floor(r() * 6), members);
    }
    const drift = [0, 5, 50][Math.floor(r() * 3)]!;
    // Good clocks differ by at most the allowed drift plus the driver's hold (a proposal is
    // then held, never 'premature'). One honest validator may have a clock that runs ahead
    // by more: its proposals are 'premature' to the others, so as a proposer it is faulty,
    // and it counts against f with the Byzantine ones (QBFT promises liveness only then).
    const skewBound = Math.floor((drift + TIMEOUT_MS) / 2) - 1;
    const honestMembers = initial.filter((i) => !byzantine.has(i));
    this.badClock = (f === 0 || byzCount < f) && r() < 0.2 ? honestMembers[Math.floor(r() * honestMembers.length)]! : -1;
    this.rules = { universe: keys.map((k) => k.validator), byzantine, initial, transitions, maxClockDriftMs: drift };
    this.adversary = new Adversary(r, this.size);
    this.crashMidStep = r() * 0.02;
    this.nodes = keys.map((key, index) => ({
      index,
      peer: `p${String(index).padStart(2, '0')}`,
      key,
      byzantine: byzantine.has(index),
      skew: index === this.badClock ? 2 * skewBound + 1 + Math.floor(r() * 4 * skewBound) : Math.floor((r() * 2 - 1) * skewBound),
      up: true,
      incarnation: 0,
      machine: null,
      sync: null,
      wal: [],
      chain: [],
      members: new MemberHistory(this.rules),
      persisted: new Set(),
      captured: [],
      received: new Map(),
      heightSince: 0,
      resendTo: null,
    }));
    this.indexOf = new Map(this.nodes.map((x) => [toHex(x.key.validator.address), x.index]));
    this.everyone = this.nodes.map((x) => x.index);
    this.stats = {
      commits: 0,
      evidence: 0,
      crashes: 0,
      refused: 0,
      premature: 0,
      bans: 0,
      setChanges: 0,
      transitions: transitions.size,
      recoveryMs: 0,
      recoveryRuns: 0,
      maxRoundAtHeal: 0,
      strategy: this.adversary.params.strategy,
    };
  }

  /** All honest with good clocks: the heal must be followed by a final block within RECOVERY_BOUND_MS. */
  get promisesRecovery(): boolean {
    return this.rules.byzantine.size === 0 && this.badClock < 0;
  }

  fail(why: string): never {
    throw new Error(`seed ${this.seed} (n=${this.n}, ${this.adversary.params.strategy}) at t=${this.now}: ${why}`);
  }

  private at(delay: number, e: SimEvent): void {
    this.queue.push(this.now + delay, e);
  }

  private clock(node: SimNode): number {
    return 1_000_000 + this.now + node.skew;
  }

  private linked(a: number, b: number): boolean {
    if (this.partition !== null && this.partition[a] !== this.partition[b]) return false;
    return (this.bannedUntil.get(`${a}:${b}`) ?? 0) <= this.now && (this.bannedUntil.get(`${b}:${a}`) ?? 0) <= this.now;
  }

  /** Every recipient of one sent buffer shares its decoding (a real node decodes each copy; the result is the same). */
  private decodedOnce(bytes: Uint8Array): ConsensusMessage | undefined {
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
  private readonly decodings = new WeakMap<Uint8Array, ConsensusMessage | null>();

  /** Sends bytes from `from` to `to` through the adversarial network. */
  send(from: number, to: number, bytes: Uint8Array): void {
    this.sendTo(from, [to], bytes, this.decodedOnce(bytes) ?? null);
  }

  /** Sends one message (decoded once, by the caller) to several recipients. */
  private sendTo(from: number, targets: readonly number[], bytes: Uint8Array, m: ConsensusMessage | null): void {
    const view = this.nodes[from]!;
    const h = view.chain.length + 1;
    const set = view.members.set(h);
    const proposerOf = (height: number, r: number): number => {
      if (height !== h) return -1;
      const address = set.at(proposerIndex(set, view.chain.at(-1)?.block.header.proposer ?? null, r)).address;
      return this.indexOf.get(toHex(address)) ?? -1;
    };
    for (const to of targets) {
      if (to === from || !this.linked(from, to)) continue;
      for (const d of this.adversary.route(from, to, m, this.healed, proposerOf, view.members.at(h), set.quorum))
        this.at(d, { kind: 'deliver', from, to, bytes });
    }
  }

  // ---------------- consensus driver (mirrors node/consensus/driver.ts) ----------------

  private start(node: SimNode): void {
    node.members = new MemberHistory(this.rules);
    node.chain.forEach((s, i) => node.members.stored(i + 1, s.block.change));
    node.machine = new QbftMachine({ chainId: CHAIN_ID, signer: node.key.signer, requestTimeoutMs: TIMEOUT_MS, crypto });
    node.sync = new SyncMachine({ maxBlocksPerRequest: 16, statusIntervalMs: 300, requestTimeoutMs: 200, backoffMs: 200, maxBackoffMs: 3000 });
    const h = node.chain.length + 1;
    node.heightSince = this.now;
    const wal = node.wal.map((r) => decodeWalRecord(r.bytes));
    this.stepNode(node, { type: 'start', height: h, validators: node.members.set(h), previousProposer: node.chain.at(-1)?.block.header.proposer ?? null, wal });
    for (const o of this.nodes)
      if (o !== node && this.linked(node.index, o.index)) this.stepSync(node, { type: 'peer-connected', peer: o.peer, now: this.clock(node) });
  }

  private stepNode(node: SimNode, event: ConsensusEvent): void {
    if (!node.up || node.machine === null) return;
    this.execute(node, node.machine.step(event));
  }

  private crash(node: SimNode): void {
    if (!node.up || node.byzantine) return;
    node.up = false;
    node.machine = null;
    node.sync = null;
    node.received.clear();
    node.incarnation++;
    this.stats.crashes++;
  }

  private execute(node: SimNode, actions: ConsensusAction[]): void {
    const inc = node.incarnation;
    for (const a of actions) {
      if (!node.up || node.incarnation !== inc) return; // crashed mid-step: the rest is lost
      switch (a.type) {
        case 'persist':
          this.persist(node, a);
          break;
        case 'broadcast':
          this.checkPersisted(node, a.message);
          if (!node.byzantine) {
            this.decodings.set(a.bytes, a.message);
            this.sendTo(node.index, this.everyone, a.bytes, a.message);
            break;
          }
          for (const o of this.nodes) {
            if (o === node) continue;
            const bytes = byzantineRewrite(this, this.byzView(node), a.message, a.bytes);
            if (bytes !== null) this.send(node.index, o.index, bytes);
          }
          break;
        case 'resend':
          this.checkPersisted(node, a.message);
          this.decodings.set(a.bytes, a.message);
          this.sendTo(node.index, node.resendTo ?? [], a.bytes, a.message);
          break;
        case 'schedule-timeout':
          this.at(a.ms, { kind: 'step', node: node.index, inc, event: { type: 'timeout', height: a.height, round: a.round } });
          break;
        case 'validate':
          this.validate(node, a.height, a.digest, a.block, a.certified);
          break;
        case 'propose': {
          const wait = a.round === 0 ? Math.max(0, (node.chain.at(-1)?.block.header.timestamp ?? 0) + BLOCK_PERIOD_MS - this.clock(node)) : 0;
          this.at(1 + wait + Math.floor(this.rnd() * 20), {
            kind: 'step',
            node: node.index,
            inc,
            event: { type: 'block-proposed', height: a.height, round: a.round, block: this.buildBlock(node, a.height, a.round) },
          });
          break;
        }
        case 'commit':
          if (a.height <= node.chain.length) {
            if (!equalBytes(node.chain[a.height - 1]!.block.digest, a.certificate.blockHash))
              this.fail(`SAFETY: node ${node.index} certified another block at stored height ${a.height}`);
            break;
          }
          this.store(node, decodeSimBlock(a.block), a.certificate);
          this.stats.commits++;
          this.newHeight(node);
          return;
        case 'evidence': {
          this.stats.evidence++;
          const set = node.members.set(a.evidence.first.height);
          const ok = verifyEvidence(a.evidence, set, CHAIN_ID, crypto);
          if (ok !== true) this.fail(`node ${node.index} produced invalid evidence: ${ok.message}`);
          const culprit = this.nodes.find((x) => equalBytes(x.key.validator.address, a.evidence.first.author))!;
          if (!culprit.byzantine) this.fail(`evidence against honest node ${culprit.index}`);
          break;
        }
        case 'sync-needed':
          this.stepSync(node, { type: 'behind', now: this.clock(node), height: node.chain.length });
          break;
        case 'refused':
          this.stats.refused++;
          break;
        case 'verdict':
          break;
      }
    }
  }

  private persist(node: SimNode, a: Extract<ConsensusAction, { type: 'persist' }>): void {
    node.wal.push({ height: a.height, bytes: a.bytes });
    if (a.record.type === 'signed') {
      const m = a.record.message;
      const payload = toHex(messageSigningBytes(CHAIN_ID, m));
      node.persisted.add(payload);
      this.persistedObjects.add(m);
      if (!node.byzantine) {
        const k = `${node.index}:${m.height}:${m.round}:${m.kind}`;
        const before = this.signedBy.get(k);
        if (before !== undefined && before !== payload) this.fail(`honest node ${node.index} signed two different messages at ${k}`);
        this.signedBy.set(k, payload);
      }
    }
    if (!this.healed && this.rnd() < this.crashMidStep) {
      this.crash(node); // crash between the WAL write and the send
      this.at(50 + Math.floor(this.rnd() * 500), { kind: 'restart', node: node.index });
    }
  }

  private checkPersisted(node: SimNode, m: ConsensusMessage): void {
    if (node.byzantine || this.persistedObjects.has(m)) return;
    if (!node.persisted.has(toHex(messageSigningBytes(CHAIN_ID, m)))) this.fail(`node ${node.index} sent a message it had not persisted`);
    this.persistedObjects.add(m);
  }
  /** Messages already checked (the machine hands the same object to persist and broadcast). */
  private readonly persistedObjects = new WeakSet<ConsensusMessage>();

  private parentView(node: SimNode): ParentView {
    const top = node.chain.at(-1);
    return { height: node.chain.length, digest: top?.block.digest ?? new Uint8Array(32), header: top?.block.header ?? null };
  }

  private buildBlock(node: SimNode, height: number, round: number): Uint8Array {
    const parent = this.parentView(node);
    const timestamp = Math.max(this.clock(node), (parent.header?.timestamp ?? 0) + 1);
    let change: SetChange | null = null;
    if (this.rnd() < 0.12) {
      const candidate: SetChange = { op: this.rnd() < 0.5 ? 'add' : 'remove', index: Math.floor(this.rnd() * this.size) };
      if (applyChange(this.rules, node.members.at(height), candidate) !== null) change = candidate;
    }
    return encodeSimBlock(
      makeHeader(height, round, parent, node.members.set(height), node.key.validator.address, timestamp, node.index * 1000 + round),
      change,
    );
  }

  /** The driver's validation: clock-free rules, then (live proposals only) the clock, held or 'premature'. */
  private validate(node: SimNode, height: number, digest: Uint8Array, bytes: Uint8Array, certified: boolean): void {
    const inc = node.incarnation;
    let verdict: 'valid' | 'invalid' | 'premature' = 'valid';
    let block: SimBlock | null = null;
    try {
      block = decodeSimBlock(bytes);
    } catch {
      verdict = 'invalid';
    }
    if (block !== null && (height !== node.chain.length + 1 || invalidReason(this.rules, node.members, this.parentView(node), block) !== null))
      verdict = 'invalid';
    if (verdict === 'valid' && !certified) {
      const ahead = block!.header.timestamp - (this.clock(node) + this.rules.maxClockDriftMs);
      if (ahead > 0 && ahead <= TIMEOUT_MS) {
        this.at(ahead, { kind: 'held-validate', node: node.index, inc, height, digest, block: bytes });
        return;
      }
      if (ahead > 0) {
        verdict = 'premature';
        this.stats.premature++;
      }
    }
    this.at(1 + Math.floor(this.rnd() * 5), { kind: 'step', node: node.index, inc, event: { type: 'validated', height, digest, verdict } });
  }

  /** Stores a committed or synced block after checking its certificate, and checks safety. */
  private store(node: SimNode, block: SimBlock, cert: CommitCertificate): void {
    const h = block.header.height;
    if (h !== node.chain.length + 1 || cert.height !== h) this.fail(`node ${node.index} stored height ${h} with chain length ${node.chain.length}`);
    const ok = verifyCertificate(cert, node.members.set(h), CHAIN_ID, crypto);
    if (ok !== true || !equalBytes(cert.blockHash, block.digest)) this.fail(`node ${node.index} stored a block without a valid certificate at ${h}`);
    const why = invalidReason(this.rules, node.members, this.parentView(node), block);
    if (why !== null) this.fail(`node ${node.index} stored an invalid block at ${h}: ${why}`);
    if (!node.byzantine) {
      const d = toHex(block.digest);
      const before = this.decided.get(h);
      if (before !== undefined && before !== d) this.fail(`SAFETY: two blocks final at height ${h}`);
      this.decided.set(h, d);
      if (this.healed && h > this.healHeight && !this.firstAfterHeal.has(node.index)) this.firstAfterHeal.set(node.index, this.now);
    }
    if (block.change !== null) this.stats.setChanges++;
    node.chain.push({ block, cert });
    node.members.stored(h, block.change);
    node.heightSince = this.now;
    node.wal = node.wal.filter((r) => r.height > h); // the driver prunes on every head advance
  }

  private newHeight(node: SimNode): void {
    const h = node.chain.length + 1;
    this.stepNode(node, { type: 'new-height', height: h, validators: node.members.set(h), previousProposer: node.chain.at(-1)!.block.header.proposer });
  }

  private resend(node: SimNode, to: number[]): void {
    node.resendTo = to.filter((o) => o !== node.index);
    this.stepNode(node, { type: 'resend' });
    node.resendTo = null;
  }

  // ---------------- block sync (the real SyncMachine) ----------------

  private stepSync(node: SimNode, event: SyncEvent): void {
    if (!node.up || node.sync === null) return;
    for (const a of node.sync.step(event)) this.syncAction(node, a);
  }

  private syncAction(node: SimNode, a: SyncAction): void {
    const inc = node.incarnation;
    const peer = this.nodes.find((x) => x.peer === a.peer)!;
    const later = (delay: number, make: () => SyncEvent) => this.at(delay, { kind: 'sync', node: node.index, inc, event: make() });
    const reachable = peer.up && this.linked(node.index, peer.index);
    const delay = 1 + Math.floor(this.rnd() * (this.healed ? 10 : this.adversary.params.maxDelay));
    switch (a.type) {
      case 'request-status': {
        if (!reachable) return later(200, () => ({ type: 'status-failed', peer: a.peer, now: this.clock(node) }));
        const lie = peer.byzantine && this.rnd() < 0.6;
        const height = lie ? peer.chain.length + 1 + Math.floor(this.rnd() * 1000) : peer.chain.length;
        return later(delay, () => ({ type: 'status', peer: a.peer, height, now: this.clock(node) }));
      }
      case 'request-blocks': {
        if (!reachable || (peer.byzantine && this.rnd() < 0.3)) return later(200, () => ({ type: 'blocks-failed', peer: a.peer, now: this.clock(node) }));
        let items = peer.chain.slice(a.from - 1, a.to);
        if (peer.byzantine) items = this.lieInBlocks(items);
        node.received.set(a.peer, items);
        return later(delay, () => ({ type: 'blocks', peer: a.peer, from: a.from, count: items.length, now: this.clock(node) }));
      }
      case 'import': {
        const items = node.received.get(a.peer) ?? [];
        node.received.delete(a.peer);
        for (const item of items) {
          if (item.block.header.height <= node.chain.length) continue;
          const h = node.chain.length + 1;
          const ok =
            item.block.header.height === h &&
            item.cert.height === h &&
            equalBytes(item.cert.blockHash, item.block.digest) &&
            verifyCertificate(item.cert, node.members.set(h), CHAIN_ID, crypto) === true &&
            invalidReason(this.rules, node.members, this.parentView(node), item.block) === null;
          if (!ok) return this.stepSync(node, { type: 'import-invalid', peer: a.peer, now: this.clock(node), reason: 'forged certificate or invalid block' });
          this.store(node, item.block, item.cert);
        }
        if (node.machine !== null && node.machine.height <= node.chain.length) this.newHeight(node);
        return this.stepSync(node, { type: 'imported', peer: a.peer, height: node.chain.length, now: this.clock(node) });
      }
      case 'penalize':
        if (!a.ban) return;
        if (!peer.byzantine && !node.byzantine) this.fail(`honest node ${node.index} banned honest peer ${peer.index}: ${a.reason}`);
        this.stats.bans++;
        this.bannedUntil.set(`${node.index}:${peer.index}`, this.now + BAN_MS);
        return;
    }
  }

  /** A Byzantine peer's answer to a block request: empty, forged certificates, or tampered blocks. */
  private lieInBlocks(items: Stored[]): Stored[] {
    const r = this.rnd();
    if (r < 0.3) return [];
    if (r < 0.5 || items.length === 0) return items;
    const [first, ...rest] = items;
    if (r < 0.75) return [{ block: first!.block, cert: { ...first!.cert, aggregateSignature: first!.cert.aggregateSignature.map((b) => b ^ 1) } }, ...rest];
    const header = { ...first!.block.header, timestamp: first!.block.header.timestamp + 1 };
    return [{ block: decodeSimBlock(encodeSimBlock(header, first!.block.change)), cert: first!.cert }, ...rest];
  }

  // ---------------- Byzantine view ----------------

  private byzView(node: SimNode) {
    return {
      index: node.index,
      key: node.key,
      captured: node.captured,
      view: () => {
        if (node.machine === null) return null;
        const h = node.chain.length + 1;
        return { height: h, round: node.machine.currentRound, parent: this.parentView(node), members: node.members.at(h), set: node.members.set(h) };
      },
    };
  }

  // ---------------- the run ----------------

  honest(): SimNode[] {
    return this.nodes.filter((x) => !x.byzantine);
  }

  run(): SimResult {
    const r = this.rnd;
    for (const node of this.nodes) this.start(node);
    // The 'alternate' schedule needs rounds that complete: fewer crashes, no partitions.
    const scheduled = this.adversary.params.strategy === 'alternate';
    // Most runs heal within a few seconds; some partitions outlast many exponential round timers.
    const longPartition = r() < 0.15;
    this.healAt = longPartition ? 8000 + Math.floor(r() * 12_000) : 1500 + Math.floor(r() * 3000);
    if (scheduled) this.healAt = 7000 + Math.floor(r() * 6000); // room for ~6 rounds of the schedule
    for (let i = Math.floor(r() * (scheduled ? 2 : 4)); i > 0; i--) {
      const node = Math.floor(r() * this.size);
      const t = Math.floor(r() * this.healAt);
      this.at(t, { kind: 'crash', node });
      if (r() < 0.7) this.at(t + 50 + Math.floor(r() * 1500), { kind: 'restart', node });
    }
    const partitions = longPartition ? 1 : scheduled ? 0 : Math.floor(r() * 3);
    for (let i = partitions; i > 0; i--) {
      const t = longPartition ? Math.floor(r() * 1000) : Math.floor(r() * this.healAt);
      this.at(t, { kind: 'partition', groups: this.nodes.map(() => (r() < 0.5 ? 0 : 1)) });
      if (!longPartition) this.at(t + 100 + Math.floor(r() * 1500), { kind: 'partition', groups: null });
    }
    for (const node of this.nodes) this.at(1 + node.index, { kind: 'tick', node: node.index });
    if (this.nodes.some((x) => x.byzantine)) this.at(10 + Math.floor(r() * 200), { kind: 'noise' });
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
    const before = this.partition;
    this.partition = null;
    this.bannedUntil.clear();
    for (const node of this.nodes) if (!node.up) this.restart(node);
    this.healHeight = Math.max(...this.honest().map((x) => x.chain.length));
    this.stats.maxRoundAtHeal = Math.max(...this.nodes.map((x) => x.machine?.currentRound ?? 0));
    this.reconnected(before, null);
  }

  /** Peers that can reach each other again exchange what they signed (the driver's peer:connect). */
  private reconnected(before: number[] | null, after: number[] | null): void {
    const split = (g: number[] | null, a: number, b: number) => g !== null && g[a] !== g[b];
    for (const node of this.nodes) {
      const back = this.nodes.filter((o) => o !== node && split(before, node.index, o.index) && !split(after, node.index, o.index)).map((o) => o.index);
      if (back.length === 0) continue;
      this.resend(node, back);
      for (const o of back) this.stepSync(node, { type: 'peer-connected', peer: this.nodes[o]!.peer, now: this.clock(node) });
    }
  }

  private restart(node: SimNode): void {
    if (node.up) return;
    node.up = true;
    this.start(node);
    for (const o of this.nodes) {
      if (o === node || !this.linked(o.index, node.index)) continue;
      this.resend(o, [node.index]);
      this.stepSync(o, { type: 'peer-connected', peer: node.peer, now: this.clock(o) });
    }
  }

  private dispatch(e: SimEvent): void {
    switch (e.kind) {
      case 'deliver': {
        const node = this.nodes[e.to]!;
        if (!this.linked(e.from, e.to)) return;
        const decoded = this.decodedOnce(e.bytes);
        if (node.byzantine && decoded !== undefined) {
          node.captured.push(decoded);
          if (node.captured.length > 400) node.captured.shift();
        }
        this.stepNode(node, { type: 'message', bytes: e.bytes, decoded: this.decodedOnce(e.bytes) });
        return;
      }
      case 'step': {
        const node = this.nodes[e.node]!;
        if (node.incarnation === e.inc) this.stepNode(node, e.event);
        return;
      }
      case 'sync': {
        const node = this.nodes[e.node]!;
        if (node.incarnation === e.inc) this.stepSync(node, e.event);
        return;
      }
      case 'held-validate': {
        const node = this.nodes[e.node]!;
        if (node.incarnation === e.inc && node.up) this.validate(node, e.height, e.digest, e.block, false);
        return;
      }
      case 'crash':
        if (!this.healed) this.crash(this.nodes[e.node]!);
        return;
      case 'restart':
        if (!this.healed) this.restart(this.nodes[e.node]!);
        return;
      case 'partition': {
        if (this.healed) return;
        const before = this.partition;
        this.partition = e.groups;
        this.reconnected(before, e.groups);
        return;
      }
      case 'tick': {
        const node = this.nodes[e.node]!;
        this.at(Math.min(RESEND_MS, SYNC_TICK_MS), e);
        if (!node.up || node.machine === null) return;
        const stuck = node.machine.currentRound > 0 || this.now - node.heightSince > TIMEOUT_MS;
        if (stuck)
          this.resend(
            node,
            this.nodes.map((o) => o.index),
          );
        this.stepSync(node, { type: 'tick', now: this.clock(node), height: node.chain.length });
        return;
      }
      case 'noise':
        for (const b of this.nodes.filter((x) => x.byzantine)) byzantineNoise(this, this.byzView(b));
        this.at(20 + Math.floor(this.rnd() * (this.healed ? 400 : 150)), { kind: 'noise' });
        return;
    }
  }
}

/** Runs `count` seeds from `first`; throws (naming the seed) on the first violation. */
export function runSeeds(n: number, first: number, count: number): { totals: Omit<SimResult, 'strategy'>; strategies: Record<string, number> } {
  const totals = {
    commits: 0,
    evidence: 0,
    crashes: 0,
    refused: 0,
    premature: 0,
    bans: 0,
    setChanges: 0,
    transitions: 0,
    recoveryMs: 0,
    recoveryRuns: 0,
    maxRoundAtHeal: 0,
  };
  const strategies: Record<string, number> = {};
  for (let seed = first; seed < first + count; seed++) {
    const r = new Simulation(n, seed).run();
    for (const k of ['commits', 'evidence', 'crashes', 'refused', 'premature', 'bans', 'setChanges', 'transitions', 'recoveryRuns'] as const) totals[k] += r[k];
    totals.recoveryMs = Math.max(totals.recoveryMs, r.recoveryMs);
    totals.maxRoundAtHeal = Math.max(totals.maxRoundAtHeal, r.maxRoundAtHeal);
    strategies[r.strategy] = (strategies[r.strategy] ?? 0) + 1;
  }
  return { totals, strategies };
}
