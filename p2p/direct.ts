/**
 * Direct messages: one topic payload sent straight to one peer on a stream of its own.
 * Gossip cannot re-send: its message id is the content hash, so the same bytes published
 * again within the seen-cache TTL are dropped by the publisher and by every peer that saw
 * them. A direct message has no id and is never forwarded; the receiver runs it through
 * the same GossipSubscriber as gossip on that topic. It arrives on its author's own
 * connection, so a 'reject' is the sender's fault: a few within a window and it is penalized.
 *
 *   /joule/<chainId>/direct/1   request: frame [kind, utf-8], frame [payload]; then EOF
 *                               answer:  header frame (exchange.ts), sent after validate + handle
 *
 * One stream per message: re-sends are rare and few, a fresh stream needs no lifecycle
 * management across reconnects, and the answer tells the sender the peer really took it.
 */
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import { ErrorCode, JouleError, isJouleError } from '../core/errors.ts';
import { utf8, utf8Text } from '../core/bytes.ts';
import { FrameReader } from './framing.ts';
import { Code, deadline, exchange, header, respond } from './exchange.ts';
import { PeerRateLimiter } from './rate-limit.ts';
import { Strikes } from './strikes.ts';
import { TOPIC_KINDS, type GossipVerdict, type TopicKind } from './topics.ts';
import type { DirectLimits, GossipSubscriber, P2PLogger } from './types.ts';

export const directProtocol = (chainId: string): string => `/joule/${chainId}/direct/1`;

const MAX_KIND_BYTES = 32;

const DEFAULTS: DirectLimits = {
  kinds: ['consensus'],
  rateLimit: { ratePerSec: 50, burst: 100 },
  maxConcurrent: 8,
  maxQueued: 64,
  maxRejects: 3,
  rejectWindowMs: 60_000,
  timeoutMs: 5_000,
};

export function isTopicKind(k: unknown): k is TopicKind {
  return typeof k === 'string' && (TOPIC_KINDS as readonly string[]).includes(k);
}

/** Fills in defaults and checks the options; CONFIG_INVALID names the bad field. */
export function directLimits(opts: Partial<DirectLimits> = {}): DirectLimits {
  const given = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as Partial<DirectLimits>;
  const l: DirectLimits = { ...DEFAULTS, ...given };
  l.kinds.forEach((k, i) => {
    if (!isTopicKind(k)) throw new JouleError(ErrorCode.CONFIG_INVALID, `unknown topic kind ${String(k)}`, `direct.kinds[${i}]`);
  });
  const positive: [string, number][] = [
    ['rateLimit.ratePerSec', l.rateLimit.ratePerSec],
    ['rateLimit.burst', l.rateLimit.burst],
    ['maxConcurrent', l.maxConcurrent],
    ['maxRejects', l.maxRejects],
    ['rejectWindowMs', l.rejectWindowMs],
    ['timeoutMs', l.timeoutMs],
  ];
  for (const [field, v] of positive) {
    if (!(Number.isFinite(v) && v > 0)) throw new JouleError(ErrorCode.CONFIG_INVALID, 'must be a positive number', `direct.${field}`);
  }
  if (!Number.isInteger(l.maxConcurrent)) throw new JouleError(ErrorCode.CONFIG_INVALID, 'must be an integer', 'direct.maxConcurrent');
  if (!(Number.isInteger(l.maxQueued) && l.maxQueued >= 0))
    throw new JouleError(ErrorCode.CONFIG_INVALID, 'must be a non-negative integer', 'direct.maxQueued');
  return l;
}

// ---------------------------------------------------------------- receiving side

export interface DirectServerDeps {
  readonly limits: DirectLimits;
  readonly maxMessageBytes: number;
  /** The subscriber for `kind`, the same one gossip on that topic goes to. */
  readonly subscriber: (kind: TopicKind) => GossipSubscriber | undefined;
  /** Called when a peer has used up its rejects; expected to disconnect and ban it. */
  readonly penalize: (peer: string, reason: string) => void;
  readonly log: P2PLogger;
}

interface Outcome {
  readonly answer: Uint8Array;
  /** Set when the sender misbehaved (counted after the answer is out). */
  readonly offence?: string;
}

export class DirectServer {
  private readonly deps: DirectServerDeps;
  private readonly rateLimiter: PeerRateLimiter;
  private readonly strikes: Strikes;

  constructor(deps: DirectServerDeps) {
    this.deps = deps;
    this.rateLimiter = new PeerRateLimiter(deps.limits.rateLimit);
    this.strikes = new Strikes({ max: deps.limits.maxRejects, windowMs: deps.limits.rejectWindowMs });
  }

  async handle(stream: Stream, peer: string): Promise<void> {
    const done = deadline(stream, this.deps.limits.timeoutMs);
    let offence: string | undefined;
    try {
      const outcome = await this.receive(stream, peer);
      offence = outcome.offence;
      await respond(stream, [outcome.answer]);
    } catch (e) {
      this.deps.log.debug({ peer, err: (e as Error).message }, 'p2p direct message failed');
      stream.abort(e as Error);
    } finally {
      done();
      // Counted even when the answer could not be sent: resetting the stream early must
      // not let a sender dodge its strikes. After the answer, as a penalty hangs up.
      if (offence !== undefined) this.offence(peer, offence);
    }
  }

  forget(peer: string): void {
    this.rateLimiter.forget(peer);
  }

  /** Checks in order of cost: rate (nothing read yet), kind, size, then the subscriber's verdict. */
  private async receive(stream: Stream, peer: string): Promise<Outcome> {
    if (!this.rateLimiter.tryTake(peer)) return { answer: header(Code.RATE_LIMITED, 'too many direct messages') };
    const reader = new FrameReader(stream);
    const kindBytes = await reader.next(MAX_KIND_BYTES);
    if (kindBytes === null) throw new JouleError(ErrorCode.CODEC_MALFORMED, 'no message', 'kind');
    const kind = utf8Text(kindBytes);
    // A kind we do not take (or do not know) may be an honest peer's newer or different
    // configuration: refused, not held against it.
    if (!isTopicKind(kind) || !this.deps.limits.kinds.includes(kind)) return { answer: header(Code.BAD_REQUEST, `kind ${kind} is not accepted directly`) };
    const sub = this.deps.subscriber(kind);
    if (sub === undefined) return { answer: header(Code.UNAVAILABLE, `not subscribed to ${kind}`) };
    let data: Uint8Array | null;
    try {
      data = await reader.next(this.deps.maxMessageBytes);
    } catch (e) {
      // Refused from the frame's length prefix, before its body is buffered. An honest
      // sender checks the same limit before sending, so this is misbehaviour.
      if (isJouleError(e) && e.code === ErrorCode.INVALID_PARAMS)
        return { answer: header(Code.BAD_REQUEST, 'message too large'), offence: 'oversized direct message' };
      throw e;
    }
    if (data === null) throw new JouleError(ErrorCode.CODEC_MALFORMED, 'no payload', 'data');
    const verdict = await this.validate(sub, kind, data, peer);
    if (verdict === 'accept') {
      try {
        sub.handle(data, peer);
      } catch (e) {
        this.deps.log.error({ kind, peer, err: (e as Error).message }, 'direct message handler threw');
      }
    }
    return { answer: header(Code.OK), offence: verdict === 'reject' ? `direct ${kind} message rejected` : undefined };
  }

  private async validate(sub: GossipSubscriber, kind: TopicKind, data: Uint8Array, peer: string): Promise<GossipVerdict> {
    try {
      return await sub.validate(data, peer);
    } catch (e) {
      // A throwing validator is our bug, not the peer's: no strike.
      this.deps.log.error({ kind, peer, err: (e as Error).message }, 'direct message validator threw');
      return 'ignore';
    }
  }

  private offence(peer: string, reason: string): void {
    this.deps.log.debug({ peer, reason }, 'p2p direct message offence');
    if (this.strikes.add(peer))
      this.deps.penalize(peer, `${this.deps.limits.maxRejects} bad direct messages within ${this.deps.limits.rejectWindowMs} ms (last: ${reason})`);
  }
}

// ---------------------------------------------------------------- sending side

/** A per-peer cap on in-flight sends, so a burst never exceeds the receiver's stream limit. */
class PeerSlots {
  private readonly peers = new Map<string, { busy: number; waiting: (() => void)[] }>();
  private readonly max: number;
  private readonly maxQueued: number;

  constructor(max: number, maxQueued: number) {
    this.max = max;
    this.maxQueued = maxQueued;
  }

  /** Waits (at most waitMs) for a slot; the returned function frees it. */
  async acquire(peer: string, waitMs: number): Promise<() => void> {
    let p = this.peers.get(peer);
    if (p === undefined) {
      p = { busy: 0, waiting: [] };
      this.peers.set(peer, p);
    }
    const slot = p;
    if (slot.busy < this.max) {
      slot.busy++;
    } else {
      if (slot.waiting.length >= this.maxQueued)
        throw new JouleError(ErrorCode.RATE_LIMITED, `${slot.waiting.length} direct messages already queued for ${peer}`);
      await new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          slot.waiting.splice(slot.waiting.indexOf(wake), 1);
          reject(new JouleError(ErrorCode.UNAVAILABLE, `no direct stream to ${peer} free within ${waitMs} ms`));
        }, waitMs);
        slot.waiting.push(wake);
      });
    }
    return () => {
      const next = slot.waiting.shift();
      if (next !== undefined) return next(); // the slot passes straight to the next sender
      slot.busy--;
      if (slot.busy === 0) this.peers.delete(peer);
    };
  }
}

/**
 * The newest open connection: after a partition or a restart, the peer's fresh connection
 * may sit beside an old one whose link is dead but not yet noticed (which one libp2p
 * would pick among several is not defined).
 */
function newestConnection(libp2p: Libp2p, peer: PeerId): Connection | undefined {
  let newest: Connection | undefined;
  for (const c of libp2p.getConnections(peer)) {
    if (c.status !== 'open' || c.limits !== undefined) continue;
    if (newest === undefined || c.timeline.open > newest.timeline.open) newest = c;
  }
  return newest;
}

export class DirectClient {
  private readonly libp2p: Libp2p;
  private readonly protocol: string;
  private readonly timeoutMs: number;
  private readonly slots: PeerSlots;
  private readonly log: P2PLogger;

  constructor(libp2p: Libp2p, chainId: string, limits: DirectLimits, log: P2PLogger) {
    this.libp2p = libp2p;
    this.protocol = directProtocol(chainId);
    this.timeoutMs = limits.timeoutMs;
    this.slots = new PeerSlots(limits.maxConcurrent, limits.maxQueued);
    this.log = log;
  }

  /**
   * `kind` and the payload size are the caller's to check. Waits at most timeoutMs for an
   * in-flight slot to the peer, then at most timeoutMs for the exchange. Without a
   * connection, dials (a static peer's address is in the peer store).
   */
  async send(peer: PeerId, kind: TopicKind, data: Uint8Array): Promise<void> {
    const release = await this.slots.acquire(peer.toString(), this.timeoutMs);
    let used: Connection | undefined;
    const started = Date.now();
    try {
      const open = (signal: AbortSignal): Promise<Stream> => {
        used = newestConnection(this.libp2p, peer);
        return used === undefined ? this.libp2p.dialProtocol(peer, this.protocol, { signal }) : used.newStream(this.protocol, { signal });
      };
      await exchange(open, `${this.protocol} to ${peer.toString()}`, [utf8(kind), data], this.timeoutMs, async () => undefined);
    } catch (e) {
      if (used !== undefined && Date.now() - started >= this.timeoutMs) this.dropStalled(used);
      throw e;
    } finally {
      release();
    }
  }

  /**
   * A connection that leaves a small message unanswered for timeoutMs is taken for a dead
   * link and dropped, so the static dialer replaces it (and peer:connect fires) as soon as
   * the network allows. Kept, it would stall everything on it, gossip included: TCP
   * retransmits on an exponential backoff, and libp2p's ping monitor takes 10-15 s to give
   * up (measured between two network namespaces: nothing got through for 1.9 s after a
   * 5 s split had healed, 3.4 s after a 9 s one; with this, 0.3-0.6 s). A peer merely that
   * slow is of no use to consensus either, and reconnecting costs little.
   */
  private dropStalled(conn: Connection): void {
    if (conn.status !== 'open') return;
    this.log.info({ peer: conn.remotePeer.toString(), timeoutMs: this.timeoutMs }, 'p2p connection dropped: direct message unanswered');
    conn.abort(new JouleError(ErrorCode.UNAVAILABLE, `direct message unanswered for ${this.timeoutMs} ms`));
  }
}
