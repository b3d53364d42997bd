/**
 * Test-only deterministic simulation of a QBFT cluster: virtual clock, a network that
 * delays, reorders, drops, duplicates and partitions, crashes (also between a WAL write and
 * the send that follows it) and restarts with the in-memory WAL, periodic block sync, and
 * one Byzantine validator (see sim-byzantine.ts). Everything random comes from one seed.
 */
import { mulberry32 } from '../core/prng.ts';
import { decodeBlock, blockHash } from '../core/block.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { verifyCertificate } from './certificate.ts';
import { verifyEvidence } from './evidence.ts';
import { QbftMachine } from './machine.ts';
import { decodeMessage, messageSigningBytes, type ConsensusMessage } from './messages.ts';
import { byzantineNoise, byzantineRewrite } from './sim-byzantine.ts';
import { CHAIN_ID, cachingCrypto, testBlock, testValidators, type TestValidator } from './test-fixtures.ts';
import type { ConsensusAction, ConsensusEvent } from './types.ts';
import { decodeWalRecord } from './wal-record.ts';
import type { CommitCertificate } from '../core/block.ts';
import type { ValidatorSet } from '../core/validators.ts';

export { mulberry32 };


export const crypto = cachingCrypto();
const TIMEOUT_MS = 100;
const BLOCK_PERIOD_MS = 150;

interface Stored { readonly block: Uint8Array; readonly digest: Uint8Array; readonly cert: CommitCertificate; readonly proposer: Uint8Array }

export interface SimNode {
  readonly index: number;
  readonly key: TestValidator;
  readonly byzantine: boolean;
  up: boolean;
  incarnation: number;
  machine: QbftMachine | null;
  wal: { height: number; bytes: Uint8Array }[];
  readonly chain: Stored[];
  readonly persisted: Set<string>;
  readonly captured: ConsensusMessage[];
}

type SimEvent =
  | { kind: 'deliver'; to: number; bytes: Uint8Array }
  | { kind: 'step'; node: number; inc: number; event: ConsensusEvent }
  | { kind: 'crash'; node: number }
  | { kind: 'restart'; node: number }
  | { kind: 'partition'; groups: number[] | null }
  | { kind: 'sync'; node: number }
  | { kind: 'noise' };

export interface SimResult { heights: number; commits: number; evidence: number; crashes: number; refused: number; maxRoundAfterHeal: number; endTime: number }

export class Simulation {
  readonly rnd: () => number;
  readonly nodes: SimNode[];
  readonly set: ValidatorSet;
  now = 0;
  healed = false;
  private queue: { t: number; seq: number; e: SimEvent }[] = [];
  private seq = 0;
  private partition: number[] | null = null; // group id per node
  readonly p: { drop: number; dup: number; maxDelay: number; crashMidStep: number };
  private readonly decided = new Map<number, string>();
  private readonly signedBy = new Map<string, string>();
  readonly stats = { commits: 0, evidence: 0, crashes: 0, refused: 0, maxRoundAfterHeal: 0 };
  private healHeight = 0;

  readonly n: number;
  readonly seed: number;

  constructor(n: number, seed: number) {
    this.n = n;
    this.seed = seed;
    this.rnd = mulberry32(seed);
    const { keys, set } = testValidators(n);
    this.set = set;
    const byz = Math.floor(this.rnd() * n);
    this.nodes = keys.map((key, index) => ({
      index, key, byzantine: index === byz, up: true, incarnation: 0, machine: null, wal: [], chain: [], persisted: new Set(), captured: [],
    }));
    const r = this.rnd;
    this.p = { drop: r() * 0.3, dup: r() * 0.2, maxDelay: 1 + Math.floor(r() * 150), crashMidStep: r() * 0.02 };
  }

  fail(why: string): never {
    throw new Error(`seed ${this.seed} (n=${this.n}) at t=${this.now}: ${why}`);
  }

  at(delay: number, e: SimEvent): void {
    const t = this.now + delay;
    const item = { t, seq: this.seq++, e };
    // binary heap insert
    const q = this.queue;
    q.push(item);
    let i = q.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const a = q[parent]!;
      if (a.t < t || (a.t === t && a.seq < item.seq)) break;
      q[i] = a;
      i = parent;
    }
    q[i] = item;
  }

  private pop(): { t: number; e: SimEvent } | undefined {
    const q = this.queue;
    if (q.length === 0) return undefined;
    const top = q[0]!;
    const last = q.pop()!;
    const less = (x: typeof last, y: typeof last) => x.t < y.t || (x.t === y.t && x.seq < y.seq);
    if (q.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        let m = i;
        let best = last;
        if (l < q.length && less(q[l]!, best)) (m = l), (best = q[l]!);
        if (l + 1 < q.length && less(q[l + 1]!, best)) (m = l + 1), (best = q[l + 1]!);
        if (m === i) break;
        q[i] = best;
        i = m;
      }
      q[i] = last;
    }
    return top;
  }

  /** Sends bytes from `from` to `to` through the faulty network. */
  send(from: number, to: number, bytes: Uint8Array): void {
    if (this.partition !== null && this.partition[from] !== this.partition[to]) return;
    if (!this.healed && this.rnd() < this.p.drop) return;
    const delay = () => 1 + Math.floor(this.rnd() * (this.healed ? 10 : this.p.maxDelay));
    this.at(delay(), { kind: 'deliver', to, bytes });
    if (this.rnd() < this.p.dup) this.at(delay(), { kind: 'deliver', to, bytes });
  }

  private start(node: SimNode): void {
    node.machine = new QbftMachine({ chainId: CHAIN_ID, signer: node.key.signer, requestTimeoutMs: TIMEOUT_MS, crypto });
    const prev = node.chain.at(-1);
    const wal = node.wal.map((r) => decodeWalRecord(r.bytes));
    this.stepNode(node, { type: 'start', height: node.chain.length + 1, validators: this.set, previousProposer: prev?.proposer ?? null, wal });
  }

  stepNode(node: SimNode, event: ConsensusEvent): void {
    if (!node.up || node.machine === null) return;
    this.execute(node, node.machine.step(event));
  }

  private crash(node: SimNode): void {
    if (!node.up || node.byzantine) return;
    node.up = false;
    node.machine = null;
    node.incarnation++;
    this.stats.crashes++;
  }

  private execute(node: SimNode, actions: ConsensusAction[]): void {
    const inc = node.incarnation;
    for (const a of actions) {
      if (!node.up || node.incarnation !== inc) return; // crashed mid-step: the rest is lost
      switch (a.type) {
        case 'persist': {
          node.wal.push({ height: a.height, bytes: a.bytes });
          if (a.record.type === 'signed') {
            const m = a.record.message;
            const payload = toHex(messageSigningBytes(CHAIN_ID, m));
            node.persisted.add(payload);
            if (!node.byzantine) {
              const k = `${node.index}:${m.height}:${m.round}:${m.kind}`;
              const before = this.signedBy.get(k);
              if (before !== undefined && before !== payload) this.fail(`honest node ${node.index} signed two different messages at ${k}`);
              this.signedBy.set(k, payload);
            }
          }
          if (!this.healed && this.rnd() < this.p.crashMidStep) {
            this.crash(node); // crash between the WAL write and the send
            this.at(50 + Math.floor(this.rnd() * 500), { kind: 'restart', node: node.index });
          }
          break;
        }
        case 'broadcast': {
          if (!node.byzantine && !node.persisted.has(toHex(messageSigningBytes(CHAIN_ID, a.message)))) {
            this.fail(`node ${node.index} broadcast a message it had not persisted`);
          }
          for (const other of this.nodes) {
            if (other === node) continue;
            const bytes = node.byzantine ? byzantineRewrite(this, node, a.message, a.bytes) : a.bytes;
            if (bytes !== null) this.send(node.index, other.index, bytes);
          }
          break;
        }
        case 'schedule-timeout':
          this.at(a.ms, { kind: 'step', node: node.index, inc, event: { type: 'timeout', height: a.height, round: a.round } });
          break;
        case 'validate': {
          const valid = this.validate(node, a.height, a.block);
          this.at(1 + Math.floor(this.rnd() * 5), { kind: 'step', node: node.index, inc, event: { type: 'validated', height: a.height, digest: a.digest, valid } });
          break;
        }
        case 'propose': {
          const block = testBlock(a.height, node.chain.at(-1)?.digest ?? null, node.key.validator.address, a.round * 100 + node.index);
          // A block period (like Besu's) between heights keeps the number of heights per seed small.
          this.at(BLOCK_PERIOD_MS + Math.floor(this.rnd() * 20), { kind: 'step', node: node.index, inc, event: { type: 'block-proposed', height: a.height, round: a.round, block } });
          break;
        }
        case 'commit':
          this.store(node, a.block, a.certificate);
          if (this.healed && a.height > this.healHeight + 1) this.stats.maxRoundAfterHeal = Math.max(this.stats.maxRoundAfterHeal, a.round);
          this.stats.commits++;
          this.newHeight(node);
          return;
        case 'evidence': {
          this.stats.evidence++;
          const ok = verifyEvidence(a.evidence, this.set, CHAIN_ID, crypto);
          if (ok !== true) this.fail(`node ${node.index} produced invalid evidence: ${ok.message}`);
          const culprit = this.set.indexOf(a.evidence.first.author);
          if (!this.nodes[culprit]!.byzantine) this.fail(`evidence against honest node ${culprit}`);
          break;
        }
        case 'sync-needed':
          this.at(1, { kind: 'sync', node: node.index });
          break;
        case 'refused':
          this.stats.refused++;
          break;
        case 'verdict':
          break;
      }
    }
  }

  private validate(node: SimNode, height: number, blockBytes: Uint8Array): boolean {
    try {
      const b = decodeBlock(blockBytes);
      const parent = node.chain.at(-1)?.digest;
      return b.header.height === height && node.chain.length === height - 1 && equalBytes(b.header.parentHash, parent ?? new Uint8Array(32));
    } catch {
      return false;
    }
  }

  /** Stores a committed (or synced) block after checking its certificate, and checks safety. */
  private store(node: SimNode, block: Uint8Array, cert: CommitCertificate): void {
    const header = decodeBlock(block).header;
    const digest = blockHash(header);
    const ok = verifyCertificate(cert, this.set, CHAIN_ID, crypto);
    if (ok !== true || !equalBytes(cert.blockHash, digest)) this.fail(`node ${node.index} got an invalid certificate at ${cert.height}`);
    if (cert.height !== node.chain.length + 1) this.fail(`node ${node.index} committed height ${cert.height} with chain length ${node.chain.length}`);
    if (!node.byzantine) {
      const d = toHex(digest);
      const before = this.decided.get(cert.height);
      if (before !== undefined && before !== d) this.fail(`SAFETY: two blocks committed at height ${cert.height}`);
      this.decided.set(cert.height, d);
    }
    node.chain.push({ block, digest, cert, proposer: header.proposer });
    node.wal = node.wal.filter((r) => r.height >= cert.height); // prune below the last committed height
  }

  private newHeight(node: SimNode): void {
    const prev = node.chain.at(-1)!;
    this.stepNode(node, { type: 'new-height', height: node.chain.length + 1, validators: this.set, previousProposer: prev.proposer });
  }

  /** Block sync from the longest reachable chain, verifying every certificate. */
  private sync(node: SimNode): void {
    if (!node.up) return;
    let best: SimNode | null = null;
    for (const o of this.nodes) {
      if (this.partition !== null && this.partition[o.index] !== this.partition[node.index]) continue;
      if (o.chain.length > (best?.chain.length ?? node.chain.length)) best = o;
    }
    if (best === null) return;
    while (node.chain.length < best.chain.length) {
      const s = best.chain[node.chain.length]!;
      this.store(node, s.block, s.cert);
    }
    if (node.machine !== null && node.machine.height <= node.chain.length) this.newHeight(node);
  }

  honest(): SimNode[] {
    return this.nodes.filter((x) => !x.byzantine);
  }

  run(): SimResult {
    const r = this.rnd;
    for (const node of this.nodes) this.start(node);
    const healAt = 1500 + Math.floor(r() * 3000);
    // Faults before the heal: crashes with restarts, and partitions.
    for (let i = Math.floor(r() * 4); i > 0; i--) {
      const node = Math.floor(r() * this.n);
      const t = Math.floor(r() * healAt);
      this.at(t, { kind: 'crash', node });
      if (r() < 0.7) this.at(t + 50 + Math.floor(r() * 1500), { kind: 'restart', node });
    }
    for (let i = Math.floor(r() * 3); i > 0; i--) {
      const t = Math.floor(r() * healAt);
      this.at(t, { kind: 'partition', groups: this.nodes.map(() => (r() < 0.5 ? 0 : 1)) });
      this.at(t + 100 + Math.floor(r() * 1500), { kind: 'partition', groups: null });
    }
    for (let t = 500; t < healAt + 60_000; t += 500) for (const node of this.nodes) this.at(t + node.index, { kind: 'sync', node: node.index });
    this.at(10 + Math.floor(r() * 200), { kind: 'noise' });
    let target = Infinity;
    const deadline = healAt + 60_000;
    let ev;
    while ((ev = this.pop()) !== undefined) {
      this.now = ev.t;
      if (!this.healed && this.now >= healAt) {
        this.healed = true;
        this.partition = null;
        for (const node of this.nodes) if (!node.up) this.restart(node);
        this.healHeight = Math.max(...this.honest().map((x) => x.chain.length));
        target = this.healHeight + 3;
      }
      if (this.healed && this.honest().every((x) => x.chain.length >= target)) break;
      if (this.now > deadline) {
        this.fail(`LIVENESS: after heal at ${healAt}, heights ${this.honest().map((x) => x.chain.length).join(',')} did not all reach ${target}`);
      }
      this.dispatch(ev.e, healAt);
    }
    if (!this.healed || !this.honest().every((x) => x.chain.length >= target)) this.fail('simulation ran out of events');
    return { heights: target, endTime: this.now, ...this.stats };
  }

  private restart(node: SimNode): void {
    if (node.up) return;
    node.up = true;
    this.start(node);
  }

  private dispatch(e: SimEvent, healAt: number): void {
    switch (e.kind) {
      case 'deliver': {
        const node = this.nodes[e.to]!;
        if (node.byzantine) {
          node.captured.push(...capture(e.bytes));
          if (node.captured.length > 400) node.captured.shift();
        }
        this.stepNode(node, { type: 'message', bytes: e.bytes });
        return;
      }
      case 'step': {
        const node = this.nodes[e.node]!;
        if (node.incarnation === e.inc) this.stepNode(node, e.event);
        return;
      }
      case 'crash':
        if (!this.healed) this.crash(this.nodes[e.node]!);
        return;
      case 'restart':
        if (!this.healed) this.restart(this.nodes[e.node]!);
        return;
      case 'partition':
        if (!this.healed) this.partition = e.groups;
        return;
      case 'sync':
        this.sync(this.nodes[e.node]!);
        return;
      case 'noise':
        byzantineNoise(this, this.nodes.find((x) => x.byzantine)!);
        this.at(20 + Math.floor(this.rnd() * (this.now < healAt ? 150 : 400)), { kind: 'noise' });
        return;
    }
  }
}

function capture(bytes: Uint8Array): ConsensusMessage[] {
  try {
    return [decodeMessage(bytes)];
  } catch {
    return [];
  }
}

/** Runs `count` seeds from `first`; throws (naming the seed) on the first violation. */
export function runSeeds(n: number, first: number, count: number): Omit<SimResult, 'heights' | 'endTime'> {
  const totals = { commits: 0, evidence: 0, crashes: 0, refused: 0, maxRoundAfterHeal: 0 };
  for (let seed = first; seed < first + count; seed++) {
    const r = new Simulation(n, seed).run();
    totals.commits += r.commits;
    totals.evidence += r.evidence;
    totals.crashes += r.crashes;
    totals.refused += r.refused;
    totals.maxRoundAfterHeal = Math.max(totals.maxRoundAfterHeal, r.maxRoundAfterHeal);
  }
  return totals;
}
