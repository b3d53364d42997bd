/**
 * createP2PNode: the libp2p host every Joule node runs. It composes the identity,
 * gater, gossip topics, request/response protocols and static-peer dialer; each of
 * those lives in its own file. Nothing here assumes the peers share a process.
 */
import { createLibp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify, type Identify } from '@libp2p/identify';
import type { GossipSub } from '@libp2p/gossipsub';
import type { Libp2p } from '@libp2p/interface';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { ErrorCode, JouleError, isJouleError } from '../core/errors.ts';
import { libp2pPrivateKeyFromSeed, parsePeerId, peerIdFromIdentitySeed } from './identity.ts';
import { createGater, PeerBans } from './gater.ts';
import { createGossipsub, toTopicValidatorResult, topicName, TOPIC_KINDS, type TopicKind } from './topics.ts';
import { DirectClient, DirectServer, directLimits, directProtocol, isTopicKind } from './direct.ts';
import { blocksProtocol, handleBlocks, handleStatus, requestBlocks, requestStatus, statusProtocol, type ServerDeps } from './reqresp.ts';
import { PeerRateLimiter } from './rate-limit.ts';
import { StaticDialer, type StaticPeer } from './dialer.ts';
import type { GossipSubscriber, P2PLogger, P2PNode, P2POptions, PeerEvent, SyncLimits } from './types.ts';

export type JouleLibp2p = Libp2p<{ identify: Identify; pubsub: GossipSub }>;

const DEFAULT_MAX_GOSSIP_BYTES = 5 * 1024 * 1024;
const CHAIN_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

const silent: P2PLogger = { info() {}, warn() {}, debug() {}, error() {} };

function parseStaticPeer(text: string, i: number, allowed: ReadonlySet<string>): StaticPeer {
  const field = `staticPeers[${i}]`;
  let addr: Multiaddr;
  try {
    addr = multiaddr(text);
  } catch (e) {
    throw new JouleError(ErrorCode.CONFIG_INVALID, `not a multiaddr (${(e as Error).message})`, field);
  }
  const id = addr.getComponents().findLast((c) => c.name === 'p2p')?.value;
  if (id === undefined) throw new JouleError(ErrorCode.CONFIG_INVALID, 'must end with /p2p/<peerId>', field);
  const peerId = parsePeerId(id, field);
  if (!allowed.has(peerId.toString())) throw new JouleError(ErrorCode.CONFIG_INVALID, `peer ${id} is not in allowedPeers`, field);
  return { addr, peerId };
}

/**
 * Like createP2PNode, but also hands back the underlying libp2p instance. For tests and
 * diagnostics only (e.g. to dial a raw multiaddr); node/ should use createP2PNode.
 */
export async function createP2PHost(opts: P2POptions): Promise<{ node: P2PNode; libp2p: JouleLibp2p }> {
  if (!CHAIN_ID_PATTERN.test(opts.chainId)) throw new JouleError(ErrorCode.CONFIG_INVALID, 'chain id must be 1-64 of [A-Za-z0-9._-]', 'chainId');
  const log = opts.logger ?? silent;
  const self = peerIdFromIdentitySeed(opts.identitySeed);
  const allowed = new Set([...opts.allowedPeers].map((p, i) => parsePeerId(p, `allowedPeers[${i}]`).toString()));
  allowed.delete(self);
  const staticPeers = (opts.staticPeers ?? []).map((s, i) => parseStaticPeer(s, i, allowed));
  const maxGossipBytes = opts.maxGossipBytes ?? DEFAULT_MAX_GOSSIP_BYTES;
  const limits: SyncLimits = {
    maxBlocksPerRequest: opts.sync?.maxBlocksPerRequest ?? 64,
    maxItemBytes: opts.sync?.maxItemBytes ?? maxGossipBytes,
    maxResponseBytes: opts.sync?.maxResponseBytes ?? 32 * 1024 * 1024,
    requestTimeoutMs: opts.sync?.requestTimeoutMs ?? 10_000,
  };
  const direct = directLimits(opts.direct);
  const penaltyMs = opts.penaltyMs ?? 60_000;
  const bans = new PeerBans();
  const gossipLimiter = new PeerRateLimiter(opts.gossipRateLimit ?? { ratePerSec: 2000, burst: 4000 });

  let listen: Multiaddr;
  try {
    listen = multiaddr(opts.listen);
  } catch (e) {
    throw new JouleError(ErrorCode.CONFIG_INVALID, `not a multiaddr (${(e as Error).message})`, 'listen');
  }

  const libp2p: JouleLibp2p = await createLibp2p({
    start: false,
    privateKey: libp2pPrivateKeyFromSeed(opts.identitySeed),
    addresses: { listen: [listen.toString()] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: [], // permissioned: peers come only from the static list
    connectionGater: createGater(allowed, bans, (peer, where) => log.debug({ peer, where }, 'p2p connection refused by gater')),
    connectionManager: {
      maxConnections: opts.maxConnections ?? 64,
      maxIncomingPendingConnections: 16,
      // libp2p's default (5/s per host) would throttle a devnet where every peer is 127.0.0.1.
      inboundConnectionThreshold: opts.inboundConnectionsPerSecond ?? 20,
      reconnectRetries: 0, // StaticDialer owns reconnection
    },
    services: {
      identify: identify(),
      pubsub: createGossipsub({ chainId: opts.chainId, maxMessageBytes: maxGossipBytes }),
    },
  });
  const pubsub = libp2p.services.pubsub;

  async function penalize(peerId: string, reason: string): Promise<void> {
    const id = parsePeerId(peerId);
    bans.ban(id.toString(), penaltyMs);
    log.warn({ peer: id.toString(), reason, banMs: penaltyMs }, 'p2p peer penalized');
    try {
      await libp2p.hangUp(id);
    } catch (e) {
      if (!isJouleError(e)) log.debug({ peer: id.toString(), err: (e as Error).message }, 'hang up failed');
    }
  }

  // ---- request/response
  const deps: ServerDeps = {
    limits,
    rateLimiter: new PeerRateLimiter(opts.requestRateLimit ?? { ratePerSec: 20, burst: 40 }),
    serveBlocks: opts.serveBlocks,
    serveStatus: opts.serveStatus,
    log,
  };
  // maxInboundStreams bounds concurrent requests per connection (extra streams are reset);
  // the token bucket in deps bounds their rate.
  await libp2p.handle(blocksProtocol(opts.chainId), (stream, conn) => handleBlocks(stream, conn.remotePeer.toString(), deps), { maxInboundStreams: 4 });
  await libp2p.handle(statusProtocol(opts.chainId), (stream, conn) => handleStatus(stream, conn.remotePeer.toString(), deps), { maxInboundStreams: 8 });

  // ---- gossip and direct messages (both go to the topic's one subscriber)
  const subscribers = new Map<string, GossipSubscriber>();
  const directServer = new DirectServer({
    limits: direct,
    maxMessageBytes: maxGossipBytes,
    subscriber: (kind) => subscribers.get(topicName(opts.chainId, kind)),
    penalize: (peer, reason) => void penalize(peer, reason),
    log,
  });
  await libp2p.handle(directProtocol(opts.chainId), (stream, conn) => directServer.handle(stream, conn.remotePeer.toString()), {
    maxInboundStreams: direct.maxConcurrent,
  });
  const directClient = new DirectClient(libp2p, opts.chainId, direct, log);
  pubsub.addEventListener('gossipsub:message', (evt) => {
    const { propagationSource, msg } = evt.detail;
    const sub = subscribers.get(msg.topic);
    if (sub === undefined) return;
    try {
      sub.handle(msg.data, propagationSource.toString());
    } catch (e) {
      log.error({ topic: msg.topic, err: (e as Error).message }, 'gossip handler threw');
    }
  });

  // ---- peer events and static peers
  const listeners = new Map<PeerEvent, Set<(peerId: string) => void>>([
    ['peer:connect', new Set()],
    ['peer:disconnect', new Set()],
  ]);
  const emit = (event: PeerEvent, peer: string): void => {
    for (const l of listeners.get(event)!) {
      try {
        l(peer);
      } catch (e) {
        log.error({ event, err: (e as Error).message }, 'peer event listener threw');
      }
    }
  };
  const dialer = new StaticDialer(
    libp2p,
    staticPeers,
    {
      initialMs: opts.redial?.initialMs ?? 250,
      maxMs: opts.redial?.maxMs ?? 1_000,
      attemptTimeoutMs: opts.redial?.attemptTimeoutMs ?? 2_000,
      holdOffMs: (peer) => bans.remainingMs(peer),
    },
    log,
  );
  libp2p.addEventListener('peer:connect', (evt) => dialer.onConnect(evt.detail.toString()));
  // Every new connection, not only a peer's first (libp2p's own 'peer:connect'): after a
  // partition or a restart, the peer's redial can arrive while our connection from before
  // is still up on a dead link we have not noticed yet. Nothing would then ever say that
  // the peer came back. libp2p tracks the connection before this event reaches us.
  libp2p.addEventListener('connection:open', (evt) => {
    const conn = evt.detail;
    if (conn.status !== 'open') return;
    const peer = conn.remotePeer.toString();
    log.info({ peer, direction: conn.direction, connections: libp2p.getConnections(conn.remotePeer).length }, 'p2p peer connected');
    emit('peer:connect', peer);
  });
  libp2p.addEventListener('peer:disconnect', (evt) => {
    const peer = evt.detail.toString();
    gossipLimiter.forget(peer);
    directServer.forget(peer);
    log.info({ peer }, 'p2p peer disconnected');
    emit('peer:disconnect', peer);
    dialer.onDisconnect(peer);
  });
  // The peer store lets requestBlocks/requestStatus reach a static peer that is
  // momentarily disconnected.
  for (const p of staticPeers) await libp2p.peerStore.merge(p.peerId, { multiaddrs: [p.addr.decapsulateCode(421)] });

  await libp2p.start();
  dialer.start();
  log.info({ peerId: self, listen: libp2p.getMultiaddrs().map(String), staticPeers: staticPeers.length, allowed: allowed.size }, 'p2p started');

  const checkDirect = (kind: TopicKind, data: Uint8Array): void => {
    if (!isTopicKind(kind)) throw new JouleError(ErrorCode.INVALID_PARAMS, `unknown topic kind ${String(kind)}`, 'kind');
    if (data.length > maxGossipBytes)
      throw new JouleError(ErrorCode.INVALID_PARAMS, `${data.length} bytes exceeds the gossip limit of ${maxGossipBytes}`, 'data');
  };

  let stopped = false;
  const node: P2PNode = {
    peerId: self,
    multiaddrs: () => libp2p.getMultiaddrs().map((m) => m.toString()),
    subscribe(kind: TopicKind, sub: GossipSubscriber): void {
      const topic = topicName(opts.chainId, kind);
      subscribers.set(topic, sub);
      pubsub.topicValidators.set(topic, async (peerId, msg) => {
        const from = peerId.toString();
        // Oversized payloads are misbehaviour (no honest node publishes one): reject.
        if (msg.data.length > maxGossipBytes) return toTopicValidatorResult('reject');
        // Over-rate is load, not proof of malice: ignore (dropped, not forwarded, no penalty).
        if (!gossipLimiter.tryTake(from)) return toTopicValidatorResult('ignore');
        try {
          return toTopicValidatorResult(await sub.validate(msg.data, from));
        } catch (e) {
          // A throwing validator is our bug, not the peer's: do not score the peer down.
          log.error({ topic, peer: from, err: (e as Error).message }, 'gossip validator threw');
          return toTopicValidatorResult('ignore');
        }
      });
      pubsub.subscribe(topic);
    },
    unsubscribe(kind: TopicKind): void {
      const topic = topicName(opts.chainId, kind);
      pubsub.unsubscribe(topic);
      pubsub.topicValidators.delete(topic);
      subscribers.delete(topic);
    },
    async publish(kind: TopicKind, data: Uint8Array): Promise<number> {
      if (data.length > maxGossipBytes)
        throw new JouleError(ErrorCode.INVALID_PARAMS, `${data.length} bytes exceeds the gossip limit of ${maxGossipBytes}`, 'data');
      try {
        return (await pubsub.publish(topicName(opts.chainId, kind), data)).recipients.length;
      } catch (e) {
        throw new JouleError(ErrorCode.UNAVAILABLE, `publish on ${kind} failed: ${(e as Error).message}`);
      }
    },
    topicPeers: (kind) => pubsub.getSubscribers(topicName(opts.chainId, kind)).map((p) => p.toString()),
    requestBlocks: (peerId, from, to) => requestBlocks(libp2p, parsePeerId(peerId), opts.chainId, from, to, limits),
    requestStatus: (peerId) => requestStatus(libp2p, parsePeerId(peerId), opts.chainId, limits.requestTimeoutMs),
    async sendDirect(peerId: string, kind: TopicKind, data: Uint8Array): Promise<void> {
      checkDirect(kind, data);
      const id = parsePeerId(peerId, 'peerId');
      if (id.toString() === self) throw new JouleError(ErrorCode.INVALID_PARAMS, 'cannot send to self', 'peerId');
      await directClient.send(id, kind, data);
    },
    async broadcastDirect(kind: TopicKind, data: Uint8Array): Promise<number> {
      checkDirect(kind, data);
      const results = await Promise.allSettled(libp2p.getPeers().map((p) => directClient.send(p, kind, data)));
      results.forEach((r) => r.status === 'rejected' && log.debug({ kind, err: (r.reason as Error).message }, 'p2p direct broadcast missed a peer'));
      return results.filter((r) => r.status === 'fulfilled').length;
    },
    penalize,
    peers: () => libp2p.getPeers().map((p) => p.toString()),
    peerCount: () => libp2p.getPeers().length,
    allowPeer(peerId: string) {
      const id = parsePeerId(peerId, 'peerId').toString();
      if (id !== self) allowed.add(id);
    },
    on(event, listener) {
      listeners.get(event)!.add(listener);
      return () => listeners.get(event)!.delete(listener);
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      dialer.stop();
      await libp2p.stop();
      log.info({ peerId: self }, 'p2p stopped');
    },
  };
  return { node, libp2p };
}

/** Creates and starts the p2p host. See P2POptions for defaults. */
export async function createP2PNode(opts: P2POptions): Promise<P2PNode> {
  return (await createP2PHost(opts)).node;
}

export { TOPIC_KINDS };
