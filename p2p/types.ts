/**
 * The public surface of p2p/: options for createP2PNode and the P2PNode it returns.
 * Payloads are opaque bytes; node/ owns their encoding and validation.
 */
import type { GossipVerdict, TopicKind } from './topics.ts';
import type { RateLimit } from './rate-limit.ts';

export type { GossipVerdict, TopicKind, RateLimit };

/** pino-compatible: `log.info({ peer }, 'connected')`. */
export interface P2PLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A peer's chain head as served by the status protocol. */
export interface PeerStatus {
  readonly height: number;
  readonly hash: Uint8Array;
}

/** Serves a block range: encoded items (e.g. block + certificate) from `from`, at most `limit` of them. */
export type BlockRangeProvider = (from: number, to: number, limit: number) => Promise<readonly Uint8Array[]> | readonly Uint8Array[];
export type StatusProvider = () => PeerStatus | Promise<PeerStatus>;

/**
 * Receives a topic's gossip and its direct messages (P2PNode.sendDirect) alike. Direct
 * messages bypass gossip's duplicate suppression, so `handle` must tolerate seeing the
 * same bytes again.
 */
export interface GossipSubscriber {
  /**
   * Runs before delivery and forwarding. 'reject' scores the sender down and drops the
   * message (for a direct message, a few rejects within DirectLimits.rejectWindowMs get
   * the sender penalized: return it only for provable misbehaviour); 'ignore' drops it
   * without penalty. Keep it fast (< 100 ms) and pure. `from` is the peer that handed the
   * message to us: for gossip not necessarily its author, for a direct message its sender.
   */
  validate(data: Uint8Array, from: string): GossipVerdict | Promise<GossipVerdict>;
  /** Called once per accepted message. Errors are logged, never propagated to gossip. */
  handle(data: Uint8Array, from: string): void;
}

export interface SyncLimits {
  /** Most items served or accepted per block request. Default 64. */
  readonly maxBlocksPerRequest: number;
  /** Largest single item (block + certificate). Default maxGossipBytes. */
  readonly maxItemBytes: number;
  /** Largest total response. The server stops early rather than exceed it. Default 32 MiB. */
  readonly maxResponseBytes: number;
  /** Whole-request deadline on the client side. Default 10 s. */
  readonly requestTimeoutMs: number;
}

/** Bounds of the direct message protocol (`/joule/<chainId>/direct/1`). */
export interface DirectLimits {
  /** Kinds a peer may send directly; anything else is refused (no penalty). Default ['consensus']. */
  readonly kinds: readonly TopicKind[];
  /** Inbound direct messages per peer; excess is refused unread (no penalty). Default 50/s, burst 100. */
  readonly rateLimit: RateLimit;
  /**
   * Direct streams open at once per connection: inbound ones beyond it are reset, and the
   * sender keeps at most this many in flight to one peer (more wait their turn). Default 8.
   */
  readonly maxConcurrent: number;
  /** Messages waiting for an in-flight slot to one peer; beyond it sendDirect fails with RATE_LIMITED. Default 64. */
  readonly maxQueued: number;
  /** Rejected direct messages within rejectWindowMs after which the sender is penalized. Default 3 in 60 s. */
  readonly maxRejects: number;
  readonly rejectWindowMs: number;
  /** Whole-exchange deadline: dial + send + answer for the sender, read + validate + answer for the receiver. Default 5 s. */
  readonly timeoutMs: number;
}

export interface P2POptions {
  readonly chainId: string;
  /** The node's 32-byte Ed25519 identity seed; its peer id derives from the public key. */
  readonly identitySeed: Uint8Array;
  /** e.g. `/ip4/127.0.0.1/tcp/30333` (tcp/0 picks a free port; read it back from multiaddrs()). */
  readonly listen: string;
  /** Multiaddrs with `/p2p/<peerId>`; dialled at start and redialled with backoff whenever they drop. */
  readonly staticPeers?: readonly string[];
  /** Peer ids admitted in either direction (validators and named observers). Static peers must be in it. */
  readonly allowedPeers: Iterable<string>;
  /** Default 64. */
  readonly maxConnections?: number;
  /** Inbound block/status requests per peer. Default 20/s, burst 40. */
  readonly requestRateLimit?: RateLimit;
  /** Inbound gossip messages per forwarding peer; excess is ignored (not forwarded). Default 2000/s, burst 4000. */
  readonly gossipRateLimit?: RateLimit;
  /** New inbound connections per second per remote host (libp2p's threshold). Default 20. */
  readonly inboundConnectionsPerSecond?: number;
  /** Largest gossip payload. Default 5 MiB (a 4 MiB block plus certificate and framing). */
  readonly maxGossipBytes?: number;
  readonly sync?: Partial<SyncLimits>;
  readonly direct?: Partial<DirectLimits>;
  /** How long penalize() keeps a peer out. Default 60 s. */
  readonly penaltyMs?: number;
  /**
   * Static peer redial backoff. Default 250 ms doubling to 1 s, with jitter: the cap bounds
   * how long after a partition heals the link comes back (consensus must resume within
   * about 2 s), and a dial a second to each of a few dozen static peers costs nothing.
   * attemptTimeoutMs (default 2 s) bounds one dial: a dial into a partition waits on the
   * kernel's SYN retransmissions (1 s, 3 s, 7 s apart), so a link that heals meanwhile is
   * only found at the next one; a fresh attempt keeps them at most ~1 s apart. Raise it
   * where a TCP + Noise + Yamux handshake can take longer (round trips over ~300 ms).
   */
  readonly redial?: { readonly initialMs?: number; readonly maxMs?: number; readonly attemptTimeoutMs?: number };
  /** Serving side of `/joule/<chainId>/blocks/1`; without it requests get UNAVAILABLE. */
  readonly serveBlocks?: BlockRangeProvider;
  /** Serving side of `/joule/<chainId>/status/1`; without it requests get UNAVAILABLE. */
  readonly serveStatus?: StatusProvider;
  readonly logger?: P2PLogger;
}

export type PeerEvent = 'peer:connect' | 'peer:disconnect';

export interface P2PNode {
  /** This node's peer id (base58). */
  readonly peerId: string;
  /** Listen addresses with `/p2p/<peerId>`, ready to hand to other nodes as static peers. */
  multiaddrs(): string[];
  /** Subscribes to a topic; one subscriber per topic (a second call replaces the first). */
  subscribe(kind: TopicKind, subscriber: GossipSubscriber): void;
  unsubscribe(kind: TopicKind): void;
  /** Publishes to a topic; resolves to the number of peers it was sent to (0 when alone). */
  publish(kind: TopicKind, data: Uint8Array): Promise<number>;
  /** Connected peers currently subscribed to a topic (useful to wait for a mesh). */
  topicPeers(kind: TopicKind): string[];
  /**
   * Sends one message straight to one peer over its newest connection (dialling it if it is
   * a static peer that is down), bypassing gossip: no duplicate suppression, no forwarding.
   * The peer runs it through its subscriber for `kind` (validate, then handle) like a
   * gossip message. Resolves once the peer has done so, whatever its verdict. JouleError:
   * INVALID_PARAMS (too large, or the peer does not take `kind` directly), RATE_LIMITED
   * (the peer's budget for us, or our queue to it, is full), UNAVAILABLE (no connection,
   * timeout, the peer is not subscribed to `kind`).
   */
  sendDirect(peerId: string, kind: TopicKind, data: Uint8Array): Promise<void>;
  /** sendDirect to every connected peer at once; resolves to how many took it. Throws only for a bad `kind` or `data`. */
  broadcastDirect(kind: TopicKind, data: Uint8Array): Promise<number>;
  /** Blocks `from..to` (inclusive) from a peer: contiguous items starting at `from`, possibly fewer than asked. */
  requestBlocks(peerId: string, from: number, to: number): Promise<Uint8Array[]>;
  requestStatus(peerId: string): Promise<PeerStatus>;
  /** Disconnects a misbehaving peer and refuses it (both directions) for penaltyMs. */
  penalize(peerId: string, reason: string): Promise<void>;
  peers(): string[];
  peerCount(): number;
  /** Admits one more peer id from now on (a validator added by vote). */
  allowPeer(peerId: string): void;
  /**
   * 'peer:connect' fires for every new connection to a peer, including one that opens while
   * an older connection to it is still up (the old one may be a dead link not yet noticed,
   * the new one the peer's redial after a partition or restart); 'peer:disconnect' when
   * its last connection closes. Returns an unsubscribe function.
   */
  on(event: PeerEvent, listener: (peerId: string) => void): () => void;
  stop(): Promise<void>;
}
