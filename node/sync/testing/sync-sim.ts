/**
 * Test helper (not used by the node): simulated peers driving a SyncMachine on virtual time,
 * deterministic for a seed. The "chain" is just a height; an import of a peer's answer moves
 * it as far as the peer really had blocks. While it runs it checks the machine's promises
 * against a model written from the rules (not from the code) and records every violation:
 * no request to an excluded peer, one request per peer, one block request at a time.
 */
import { mulberry32 } from '../../../core/prng.ts';
import { SyncMachine, type SyncAction, type SyncConfig, type SyncEvent } from '../sync-machine.ts';

/**
 * honest: claims and serves its real head. empty: claims, answers every block request empty.
 * silent: claims, never answers block requests. failing: claims, every block request errors.
 * slow: has the blocks but always answers after the request timeout. forger: claims and
 * serves blocks whose certificates are forged. partial: really has `has` blocks, claims more,
 * answers empty beyond them. mute: answers nothing at all, not even status.
 */
export type PeerKind = 'honest' | 'empty' | 'silent' | 'failing' | 'slow' | 'forger' | 'partial' | 'mute';

export interface SimPeer {
  readonly id: string;
  readonly kind: PeerKind;
  /** Its answer to status. */
  readonly claim: number;
  /** Blocks it really holds (honest, slow, partial). */
  readonly has: number;
}

export interface SimOptions {
  readonly tickMs: number;
  /** Each answer arrives after a delay drawn from [0, maxDelayMs]. */
  readonly maxDelayMs: number;
  readonly seed: number;
  /** Honest answers carry a random number (>= 1) of the blocks asked for, not all of them. */
  readonly partialAnswers?: boolean;
}

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly event: () => SyncEvent | undefined;
}

export class SyncSim {
  readonly machine: SyncMachine;
  readonly actions: { readonly now: number; readonly action: SyncAction }[] = [];
  readonly violations: string[] = [];
  maxActionsPerStep = 0;
  now = 0;
  height = 0;

  private readonly cfg: SyncConfig;
  private readonly opts: SimOptions;
  private readonly rand: () => number;
  private readonly peers = new Map<string, SimPeer>();
  private readonly connected = new Set<string>();
  private pending: Pending[] = [];
  private seq = 0;
  private nextTick = 0;
  // The model of the rules, kept from the actions alone.
  private readonly failures = new Map<string, number>();
  private readonly excludedUntil = new Map<string, number>();
  private readonly statusSentAt = new Map<string, number>();
  private blocksOutstanding: string | null = null;
  private readonly answered = new Map<string, { from: number; count: number }>();

  constructor(cfg: SyncConfig, peers: readonly SimPeer[], opts: SimOptions) {
    this.cfg = cfg;
    this.opts = opts;
    this.machine = new SyncMachine(cfg);
    this.rand = mulberry32(opts.seed);
    for (const p of peers) this.peers.set(p.id, p);
  }

  connect(id: string): void {
    this.connected.add(id);
    this.step({ type: 'peer-connected', peer: id, now: this.now });
  }

  disconnect(id: string): void {
    this.connected.delete(id);
    this.statusSentAt.delete(id);
    this.failures.delete(id);
    this.excludedUntil.delete(id);
    if (this.blocksOutstanding === id) this.blocksOutstanding = null;
    this.step({ type: 'peer-disconnected', peer: id, now: this.now });
  }

  /** Advances virtual time (answers, then the tick due at the same instant) until `done` or `limitMs`. */
  runUntil(done: () => boolean, limitMs: number): boolean {
    while (!done()) {
      const next = this.pending.length > 0 ? Math.min(this.pending[0]!.at, this.nextTick) : this.nextTick;
      if (next > limitMs) return false;
      this.now = next;
      const due = this.pending.length > 0 && this.pending[0]!.at <= this.now ? this.pending.shift() : undefined;
      if (due !== undefined) {
        const e = due.event();
        if (e !== undefined) this.step(e);
      } else {
        this.nextTick += this.opts.tickMs;
        this.step({ type: 'tick', now: this.now, height: this.height });
      }
    }
    return true;
  }

  step(e: SyncEvent): SyncAction[] {
    const actions = this.machine.step(e);
    this.maxActionsPerStep = Math.max(this.maxActionsPerStep, actions.length);
    for (const a of actions) {
      this.actions.push({ now: this.now, action: a });
      this.execute(a);
    }
    return actions;
  }

  /** Block requests sent to `peer` so far. */
  blockRequests(peer: string): number {
    return this.actions.filter((a) => a.action.type === 'request-blocks' && a.action.peer === peer).length;
  }

  private violation(what: string): void {
    this.violations.push(`t=${this.now}: ${what}`);
  }

  private schedule(delay: number, event: () => SyncEvent | undefined): void {
    const p: Pending = { at: this.now + delay, seq: this.seq++, event };
    let i = this.pending.length;
    while (i > 0 && (this.pending[i - 1]!.at > p.at || (this.pending[i - 1]!.at === p.at && this.pending[i - 1]!.seq > p.seq))) i--;
    this.pending.splice(i, 0, p);
  }

  private delay(): number {
    return Math.floor(this.rand() * (this.opts.maxDelayMs + 1));
  }

  private checkRequest(peer: string, what: string): void {
    if (!this.connected.has(peer)) this.violation(`${what} to disconnected ${peer}`);
    if (this.now < (this.excludedUntil.get(peer) ?? 0)) this.violation(`${what} to ${peer} while excluded until ${this.excludedUntil.get(peer)}`);
    const sent = this.statusSentAt.get(peer);
    if (sent !== undefined && this.now - sent <= this.cfg.requestTimeoutMs) this.violation(`${what} to ${peer} with a status request outstanding`);
    if (this.blocksOutstanding === peer) this.violation(`${what} to ${peer} with a block request outstanding`);
  }

  private execute(a: SyncAction): void {
    const peer = this.peers.get(a.peer)!;
    switch (a.type) {
      case 'request-status':
        this.checkRequest(a.peer, 'request-status');
        this.statusSentAt.set(a.peer, this.now);
        if (peer.kind === 'mute') return;
        this.schedule(this.delay(), () => {
          if (!this.connected.has(a.peer)) return undefined;
          this.statusSentAt.delete(a.peer);
          return { type: 'status', peer: a.peer, height: peer.claim, now: this.now };
        });
        return;
      case 'request-blocks':
        this.checkRequest(a.peer, 'request-blocks');
        if (this.blocksOutstanding !== null) this.violation(`request-blocks to ${a.peer} while ${this.blocksOutstanding} has one outstanding`);
        if (a.from !== this.height + 1 || a.to < a.from || a.to - a.from + 1 > this.cfg.maxBlocksPerRequest)
          this.violation(`bad range ${a.from}..${a.to} at height ${this.height}`);
        this.blocksOutstanding = a.peer;
        this.answer(peer, a.from, a.to);
        return;
      case 'import': {
        const got = this.answered.get(a.peer);
        if (got === undefined) {
          this.violation(`import from ${a.peer} without an answer`);
          return;
        }
        this.schedule(0, () => {
          if (this.blocksOutstanding === a.peer) this.blocksOutstanding = null;
          if (peer.kind === 'forger') return { type: 'import-invalid', peer: a.peer, reason: 'CERT_INVALID', height: this.height, now: this.now };
          this.height = Math.max(this.height, got.from + got.count - 1);
          if (this.height >= got.from) this.failures.set(a.peer, 0);
          return { type: 'imported', peer: a.peer, height: this.height, now: this.now };
        });
        return;
      }
      case 'penalize': {
        const n = (this.failures.get(a.peer) ?? 0) + 1;
        this.failures.set(a.peer, n);
        const ms = a.ban ? this.cfg.maxBackoffMs : Math.min(this.cfg.maxBackoffMs, this.cfg.backoffMs * 2 ** (n - 1));
        this.excludedUntil.set(a.peer, this.now + ms);
        if (a.ban !== (peer.kind === 'forger')) this.violation(`penalize ${a.peer} (${peer.kind}) with ban=${a.ban}`);
        if (peer.kind === 'honest') this.violation(`honest ${a.peer} penalised: ${a.reason}`);
        if (this.blocksOutstanding === a.peer) this.blocksOutstanding = null;
        return;
      }
    }
  }

  private answer(peer: SimPeer, from: number, to: number): void {
    const id = peer.id;
    const blocks = (count: number) => (): SyncEvent | undefined => {
      if (!this.connected.has(id)) return undefined;
      this.answered.set(id, { from, count });
      return { type: 'blocks', peer: id, from, count, now: this.now };
    };
    const real = Math.max(0, Math.min(to, peer.has) - from + 1);
    switch (peer.kind) {
      case 'honest':
      case 'partial': {
        const count = real > 0 && this.opts.partialAnswers === true ? 1 + Math.floor(this.rand() * real) : real;
        this.schedule(this.delay(), blocks(count));
        return;
      }
      case 'slow':
        this.schedule(this.cfg.requestTimeoutMs + 1 + this.delay(), blocks(real));
        return;
      case 'empty':
        this.schedule(this.delay(), blocks(0));
        return;
      case 'forger':
        this.schedule(this.delay(), blocks(to - from + 1));
        return;
      case 'failing':
        this.schedule(this.delay(), () => (this.connected.has(id) ? { type: 'blocks-failed', peer: id, now: this.now } : undefined));
        return;
      case 'silent':
      case 'mute':
        return;
    }
  }
}
