/**
 * Block sync as a pure state machine (etcd raft style, like consensus/): `step(event)`
 * returns the actions the shell (node/sync/block-sync.ts, or a simulation) must execute. No I/O, no
 * clock (time arrives as `now` on every event), no randomness, no dependence on Map order.
 *
 * Rules:
 * 1. A peer's claimed height (its status answer) is only a hint. Blocks are requested from
 *    a peer with a claim above our height that is not excluded and has no request
 *    outstanding: the one with the fewest consecutive failures (a peer that failed is on
 *    probation until it serves again), then the highest claim, then the lowest peer id.
 * 2. A peer that answers a block request empty, fails it, times it out (no answer within
 *    requestTimeoutMs), or serves blocks that do not move our chain to the first height
 *    asked for, has failed: it is excluded for backoffMs · 2^(failures-1), capped at
 *    maxBackoffMs (`penalize` ban:false), and the next best peer is asked in the SAME step.
 * 3. A peer that served a forged certificate or an invalid block is penalised with
 *    ban:true (the shell disconnects and bans it) and excluded for maxBackoffMs here too.
 * 4. A peer whose blocks moved our chain has its failure count reset.
 * 5. A claim that was never backed decays: a peer is only asked for heights above ours, which
 *    it never served us, so when it fails its claim is dropped; it is asked for its status
 *    again as soon as its exclusion ends. An excluded peer is neither polled nor picked.
 * 6. Bounded: state exists only for connected peers (forgotten on disconnect), at most one
 *    request is outstanding per peer, at most one block request (or import) at a time.
 *    Statuses are polled every statusIntervalMs (or at once on `behind`), and only from
 *    peers whose claim does not already put them ahead of us; a peer whose claim we hold,
 *    only while our height stands still. A height that keeps rising (consensus committing,
 *    or sync importing) is the news that poll would bring, and each poll is a stream of its
 *    own to every peer.
 *
 * Hence with k lying peers and one honest peer that holds the blocks, each liar costs at most
 * one request timeout: it is then excluded, and even after its (doubling) exclusion ends it
 * ranks below the honest peer, whose failure count every served batch resets. Sync reaches
 * the honest head within k timeouts plus the honest transfers.
 */

export interface SyncConfig {
  readonly maxBlocksPerRequest: number;
  /** How often to re-poll the status of peers that are not known to be ahead of us, while our height stands still. */
  readonly statusIntervalMs: number;
  /** An outstanding request older than this is a failure. */
  readonly requestTimeoutMs: number;
  /** First exclusion of a peer that failed to serve; doubles per consecutive failure. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

export type SyncEvent =
  | { type: 'tick'; now: number; height: number }
  /** Something says we are behind (consensus saw f+1 higher heights, a gossiped block was ahead): poll statuses now. */
  | { type: 'behind'; now: number; height: number }
  | { type: 'peer-connected'; peer: string; now: number }
  | { type: 'peer-disconnected'; peer: string; now: number }
  | { type: 'status'; peer: string; height: number; now: number }
  | { type: 'status-failed'; peer: string; now: number }
  | { type: 'blocks'; peer: string; from: number; count: number; now: number }
  | { type: 'blocks-failed'; peer: string; now: number }
  | { type: 'imported'; peer: string; height: number; now: number }
  /** `height`, when given, is our chain height after the items before the invalid one were imported. */
  | { type: 'import-invalid'; peer: string; now: number; reason: string; height?: number };

export type SyncAction =
  | { type: 'request-status'; peer: string }
  | { type: 'request-blocks'; peer: string; from: number; to: number }
  | { type: 'import'; peer: string }
  | { type: 'penalize'; peer: string; reason: string; ban: boolean };

/** Reasons of `penalize` with ban:false (a fixed set, usable as a metric label). */
export type SyncFailure = 'empty' | 'failed' | 'timeout' | 'unusable';

interface PeerState {
  /** Height the peer claims (a hint), null when unknown or dropped. */
  claim: number | null;
  /** Consecutive failures since it last served. */
  failures: number;
  excludedUntil: number;
  /** When the outstanding status request was sent, null when none is outstanding. */
  statusSince: number | null;
  polledAt: number;
}

interface InFlight {
  readonly peer: string;
  readonly from: number;
  readonly since: number;
  phase: 'request' | 'import';
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class SyncMachine {
  private readonly cfg: SyncConfig;
  private readonly peers = new Map<string, PeerState>();
  private inflight: InFlight | null = null;
  private height = 0;
  private now = 0;
  /** When our height last rose. */
  private advancedAt = -Infinity;
  private out: SyncAction[] = [];

  constructor(cfg: SyncConfig) {
    if (cfg.maxBlocksPerRequest < 1 || cfg.backoffMs < 1 || cfg.maxBackoffMs < cfg.backoffMs || cfg.requestTimeoutMs < 1 || cfg.statusIntervalMs < 1) {
      throw new RangeError('SyncConfig: maxBlocksPerRequest, intervals and backoffs must be positive, maxBackoffMs >= backoffMs');
    }
    this.cfg = cfg;
  }

  /** The highest claim above our height of a peer not excluded; null when none (not syncing). */
  get target(): number | null {
    let best: number | null = null;
    for (const p of this.peers.values()) {
      if (p.claim !== null && p.claim > this.height && p.excludedUntil <= this.now && (best === null || p.claim > best)) best = p.claim;
    }
    return best;
  }

  get syncing(): boolean {
    return this.target !== null;
  }

  /** No request outstanding and no import running. */
  get idle(): boolean {
    if (this.inflight !== null) return false;
    for (const p of this.peers.values()) if (p.statusSince !== null) return false;
    return true;
  }

  step(e: SyncEvent): SyncAction[] {
    this.out = [];
    if (e.now > this.now) this.now = e.now;
    this.expire();
    switch (e.type) {
      case 'tick':
        this.advance(e.height);
        this.poll(false);
        break;
      case 'behind':
        this.advance(e.height);
        this.poll(true);
        break;
      case 'peer-connected':
        if (!this.peers.has(e.peer)) {
          this.peers.set(e.peer, { claim: null, failures: 0, excludedUntil: 0, statusSince: null, polledAt: -Infinity });
          this.pollOne(e.peer, this.peers.get(e.peer)!);
        }
        break;
      case 'peer-disconnected':
        this.peers.delete(e.peer);
        // An import already running finishes (its items are checked on their own merits).
        if (this.inflight?.peer === e.peer && this.inflight.phase === 'request') this.inflight = null;
        break;
      case 'status':
        this.onStatus(e.peer, e.height);
        break;
      case 'status-failed': {
        // Not a failure to serve: the claim (a hint either way) stays as it was.
        const p = this.peers.get(e.peer);
        if (p !== undefined) p.statusSince = null;
        break;
      }
      case 'blocks':
        this.onBlocks(e.peer, e.from, e.count);
        break;
      case 'blocks-failed':
        if (this.awaiting(e.peer, 'request') !== null) {
          this.inflight = null;
          this.fail(e.peer, 'failed');
        }
        break;
      case 'imported': {
        this.advance(e.height);
        const f = this.awaiting(e.peer, 'import');
        if (f !== null) this.onImported(f, e.height);
        break;
      }
      case 'import-invalid':
        if (e.height !== undefined) this.advance(e.height);
        if (this.awaiting(e.peer, 'import') !== null) {
          this.inflight = null;
          this.ban(e.peer, e.reason);
        }
        break;
    }
    this.pick();
    return this.out;
  }

  private advance(height: number): void {
    if (height <= this.height) return;
    this.height = height;
    this.advancedAt = this.now;
  }

  /** The block request or import in flight, if it is `peer`'s and in `phase`. */
  private awaiting(peer: string, phase: InFlight['phase']): InFlight | null {
    const f = this.inflight;
    return f !== null && f.peer === peer && f.phase === phase ? f : null;
  }

  private expire(): void {
    const limit = this.cfg.requestTimeoutMs;
    for (const p of this.peers.values()) if (p.statusSince !== null && this.now - p.statusSince > limit) p.statusSince = null;
    const f = this.inflight;
    if (f !== null && f.phase === 'request' && this.now - f.since > limit) {
      this.inflight = null;
      this.fail(f.peer, 'timeout');
    }
  }

  private onStatus(peer: string, height: number): void {
    const p = this.peers.get(peer);
    if (p === undefined || p.statusSince === null) return; // unsolicited or already timed out
    p.statusSince = null;
    if (Number.isSafeInteger(height) && height >= 0) p.claim = height;
  }

  private onBlocks(peer: string, from: number, count: number): void {
    const f = this.awaiting(peer, 'request');
    if (f === null || f.from !== from) return; // stale: timed out, or the peer was forgotten
    if (count > 0) {
      f.phase = 'import';
      this.out.push({ type: 'import', peer });
    } else {
      this.inflight = null;
      this.fail(peer, 'empty');
    }
  }

  private onImported(f: InFlight, height: number): void {
    this.inflight = null;
    if (height < f.from) {
      // Items that neither extend our chain nor were overtaken by it: no proof it has the blocks.
      this.fail(f.peer, 'unusable');
      return;
    }
    const p = this.peers.get(f.peer);
    if (p !== undefined) p.failures = 0;
  }

  private fail(peer: string, reason: SyncFailure): void {
    const p = this.peers.get(peer);
    if (p === undefined) return; // disconnected meanwhile: already forgotten
    p.failures++;
    const backoff = this.cfg.backoffMs * 2 ** Math.min(p.failures - 1, 40);
    p.excludedUntil = this.now + Math.min(this.cfg.maxBackoffMs, backoff);
    p.claim = null;
    p.polledAt = -Infinity; // ask again as soon as the exclusion ends
    this.out.push({ type: 'penalize', peer, reason, ban: false });
  }

  private ban(peer: string, reason: string): void {
    const p = this.peers.get(peer);
    if (p !== undefined) {
      p.failures++;
      p.excludedUntil = this.now + this.cfg.maxBackoffMs;
      p.claim = null;
    }
    // Even when it has disconnected meanwhile: the shell's ban keeps it out.
    this.out.push({ type: 'penalize', peer, reason, ban: true });
  }

  private usable(id: string, p: PeerState): boolean {
    return p.excludedUntil <= this.now && p.statusSince === null && !(this.inflight?.peer === id && this.inflight.phase === 'request');
  }

  private poll(force: boolean): void {
    for (const id of [...this.peers.keys()].sort(byId)) {
      const p = this.peers.get(id)!;
      if (p.claim !== null && p.claim > this.height) continue; // already ahead: its blocks will tell
      // A peer whose claim we hold is re-polled only while our height stands still; one
      // without (never answered, or its claim dropped) as soon as it is due.
      const since = p.claim === null ? p.polledAt : Math.max(p.polledAt, this.advancedAt);
      if (force || this.now - since >= this.cfg.statusIntervalMs) this.pollOne(id, p);
    }
  }

  private pollOne(id: string, p: PeerState): void {
    if (!this.usable(id, p)) return;
    p.statusSince = this.now;
    p.polledAt = this.now;
    this.out.push({ type: 'request-status', peer: id });
  }

  private pick(): void {
    if (this.inflight !== null) return;
    let best: { readonly id: string; readonly failures: number; readonly claim: number } | null = null;
    for (const id of [...this.peers.keys()].sort(byId)) {
      const p = this.peers.get(id)!;
      if (p.claim === null || p.claim <= this.height || !this.usable(id, p)) continue;
      // Strictly better only, so among equals the lowest id (visited first) stays.
      if (best === null || p.failures < best.failures || (p.failures === best.failures && p.claim > best.claim))
        best = { id, failures: p.failures, claim: p.claim };
    }
    if (best === null) return;
    const from = this.height + 1;
    const to = Math.min(best.claim, this.height + this.cfg.maxBlocksPerRequest);
    this.inflight = { peer: best.id, from, since: this.now, phase: 'request' };
    this.out.push({ type: 'request-blocks', peer: best.id, from, to });
  }
}
