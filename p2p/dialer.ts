/**
 * Keeps connections to the static peers up. libp2p's own KEEP_ALIVE reconnect gives up
 * after a few retries; a validator must never give up on another validator, so each
 * static peer gets its own timer: dial, and on failure or disconnect retry with
 * exponential backoff (capped, jittered so restarted clusters do not dial in lockstep).
 */
import type { Libp2p, PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { P2PLogger } from './types.ts';

/** A connection that lasted this long counts as healthy and resets the backoff. */
const STABLE_CONNECTION_MS = 5_000;

export interface StaticPeer {
  readonly addr: Multiaddr;
  readonly peerId: PeerId;
}

interface PeerState {
  readonly peer: StaticPeer;
  attempt: number;
  /** When the current connection came up (undefined while down). */
  connectedAt: number | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  dialing: boolean;
}

export interface RedialConfig {
  readonly initialMs: number;
  readonly maxMs: number;
  /**
   * Deadline of one dial attempt. Short, because a dial into a partition sits in the
   * kernel's SYN retransmission (1 s, 3 s, 7 s apart) and a link that heals meanwhile is
   * only noticed at the next retransmission; a fresh attempt starts over at 1 s.
   */
  readonly attemptTimeoutMs: number;
  /** Extra delay before a dial is allowed again (e.g. while the peer is banned). */
  readonly holdOffMs: (peerId: string) => number;
}

export class StaticDialer {
  private readonly states = new Map<string, PeerState>();
  private stopped = false;
  private readonly libp2p: Libp2p;
  private readonly cfg: RedialConfig;
  private readonly log: P2PLogger;

  constructor(libp2p: Libp2p, peers: readonly StaticPeer[], cfg: RedialConfig, log: P2PLogger) {
    this.libp2p = libp2p;
    this.cfg = cfg;
    this.log = log;
    for (const peer of peers) this.states.set(peer.peerId.toString(), { peer, attempt: 0, connectedAt: undefined, timer: undefined, dialing: false });
  }

  start(): void {
    for (const s of this.states.values()) this.schedule(s, 0);
  }

  /**
   * Called on every peer disconnect; only static peers are redialled. The backoff resets
   * only after a connection that stayed up for a while: a peer that accepts the
   * handshake and then drops us (it does not list us, or has banned us) would otherwise
   * be redialled in a tight loop.
   */
  onDisconnect(peerId: string): void {
    const s = this.states.get(peerId);
    if (s === undefined) return;
    const lived = s.connectedAt === undefined ? 0 : Date.now() - s.connectedAt;
    s.connectedAt = undefined;
    if (lived >= STABLE_CONNECTION_MS) s.attempt = 0;
    else s.attempt++;
    this.schedule(s, this.backoff(s));
  }

  onConnect(peerId: string): void {
    const s = this.states.get(peerId);
    if (s !== undefined) s.connectedAt = Date.now();
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.states.values()) clearTimeout(s.timer);
  }

  private backoff(s: PeerState): number {
    const base = Math.min(this.cfg.maxMs, this.cfg.initialMs * 2 ** Math.min(s.attempt, 30));
    return Math.round(base * (0.8 + 0.4 * Math.random()));
  }

  private schedule(s: PeerState, delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(s.timer);
    const wait = Math.max(delayMs, this.cfg.holdOffMs(s.peer.peerId.toString()));
    s.timer = setTimeout(() => void this.dial(s), wait);
    s.timer.unref?.();
  }

  private async dial(s: PeerState): Promise<void> {
    s.timer = undefined;
    if (this.stopped || s.dialing) return;
    if (this.libp2p.getConnections(s.peer.peerId).length > 0) return; // it dialled us, or already up
    s.dialing = true;
    const started = Date.now();
    try {
      await this.libp2p.dial(s.peer.addr, { signal: AbortSignal.timeout(this.cfg.attemptTimeoutMs) });
    } catch (e) {
      s.attempt++;
      // The backoff spaces attempts from their start: one that timed out has waited already.
      const next = Math.max(0, this.backoff(s) - (Date.now() - started));
      // Peers that are simply not up yet are normal at cluster start: keep it at debug
      // for the first few attempts, then warn so an operator sees a dead link (about once
      // a minute at a 1-2 s redial cap, not at every attempt).
      const level = s.attempt === 5 || (s.attempt > 5 && s.attempt % 50 === 0) ? 'warn' : 'debug';
      this.log[level]({ peer: s.peer.peerId.toString(), attempt: s.attempt, retryInMs: next, err: (e as Error).message }, 'p2p static peer dial failed');
      this.schedule(s, next);
    } finally {
      s.dialing = false;
    }
  }
}
