/**
 * Gossip topics and the gossipsub configuration for a small permissioned mesh.
 */
import { gossipsub, TopicValidatorResult, type GossipsubOpts, type Message } from '@libp2p/gossipsub';
import { createTopicScoreParams } from '@libp2p/gossipsub/score';
import { sha256Concat } from '../core/hash.ts';
import { utf8 } from '../core/bytes.ts';

/** What travels on each topic (payloads are opaque bytes; node/ decodes them). */
export const TOPIC_KINDS = ['txs', 'consensus', 'blocks'] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];

/** Topic names are namespaced by chain id so two chains on one network never mix. */
export function topicName(chainId: string, kind: TopicKind): string {
  return `/joule/${chainId}/${kind}/1`;
}

export type GossipVerdict = 'accept' | 'ignore' | 'reject';

export function toTopicValidatorResult(v: GossipVerdict): TopicValidatorResult {
  switch (v) {
    case 'accept':
      return TopicValidatorResult.Accept;
    case 'reject':
      return TopicValidatorResult.Reject;
    default:
      return TopicValidatorResult.Ignore;
  }
}

/**
 * Message id = SHA-256(topic || data): the same payload gossiped by several validators
 * (a tx batch relayed twice, a block re-broadcast) is one message and is dropped as a
 * duplicate. Sound because gossip messages are unsigned at the gossipsub layer (see below).
 */
function contentMsgId(msg: Message): Uint8Array {
  return sha256Concat(utf8(msg.topic), msg.data);
}

/**
 * Peer scoring. Only invalid deliveries (validator said 'reject') count against a peer,
 * squared and decaying, so a peer that sends garbage is quickly graylisted while honest
 * but quiet validators (consensus traffic is bursty) are never penalised for silence.
 * IP colocation is disabled: devnets and tests put every validator on 127.0.0.1.
 */
function scoreParams(topics: readonly string[]): Partial<GossipsubOpts['scoreParams']> {
  const perTopic = createTopicScoreParams({
    topicWeight: 1,
    timeInMeshWeight: 0.01,
    timeInMeshQuantum: 1000,
    timeInMeshCap: 100,
    firstMessageDeliveriesWeight: 0.1,
    firstMessageDeliveriesDecay: 0.9,
    firstMessageDeliveriesCap: 100,
    meshMessageDeliveriesWeight: 0,
    meshFailurePenaltyWeight: 0,
    invalidMessageDeliveriesWeight: -20,
    invalidMessageDeliveriesDecay: 0.5,
  });
  return {
    topics: Object.fromEntries(topics.map((t) => [t, perTopic])),
    IPColocationFactorWeight: 0,
    decayInterval: 1000,
  };
}

export interface GossipConfig {
  readonly chainId: string;
  /** Largest accepted payload; larger messages are rejected (and the sender scored down). */
  readonly maxMessageBytes: number;
}

export function createGossipsub(cfg: GossipConfig): ReturnType<typeof gossipsub> {
  const topics = TOPIC_KINDS.map((k) => topicName(cfg.chainId, k));
  return gossipsub({
    // Every payload (tx, consensus message, block + certificate) carries its own
    // signature checked by node/, and Noise authenticates each hop; signing every gossip
    // message again would cost an Ed25519 sign + verify per message per hop for nothing.
    globalSignaturePolicy: 'StrictNoSign',
    msgIdFn: contentMsgId,
    // A lone validator (one-node devnet, or the first to start) must be able to publish.
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    emitSelf: false,
    // Own messages go to every subscribed peer: lower latency for consensus votes, and a
    // 4-20 node cluster is small enough to afford it.
    floodPublish: true,
    fallbackToFloodsub: false,
    doPX: false, // no discovery through gossip: peers come only from the static list
    // No mesh: nothing is relayed at once. Every validator dials every other, and its own
    // messages go to every peer (floodPublish), so a relay only sent each peer a second and
    // third copy: two of every three messages a node received under load were duplicates,
    // each decrypted, decoded and hashed before being dropped. A node that is not connected
    // to the author (a link down) still gets the message within a heartbeat from the
    // others' gossip (IHAVE to up to Dlazy peers, then IWANT), as consensus and block sync
    // already allow for. The heartbeat is gossipsub's default, 1 s: each one sends every
    // peer an IHAVE of the recent messages, which in a full mesh nobody needs, and on an
    // idle 4-validator devnet 700 ms cost the validators 0.025 cores more (1.2 % of the
    // machine) than 1 s.
    D: 0,
    Dlo: 0,
    Dhi: 0,
    Dscore: 0,
    Dout: 0,
    Dlazy: 6,
    heartbeatInterval: 1000,
    allowedTopics: topics,
    // An RPC frame may carry a message plus control data, or several messages in answer
    // to IWANT; bounded so a peer cannot make us buffer arbitrarily large frames.
    maxInboundDataLength: 2 * cfg.maxMessageBytes + 64 * 1024,
    maxOutboundBufferSize: 8 * cfg.maxMessageBytes,
    scoreParams: scoreParams(topics),
    scoreThresholds: { gossipThreshold: -10, publishThreshold: -50, graylistThreshold: -80, acceptPXThreshold: 100, opportunisticGraftThreshold: 5 },
  });
}
