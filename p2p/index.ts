/** p2p/: the libp2p host (gossip topics, direct messages, block sync protocols, peer gating). See README.md. */
export { createP2PNode } from './node.ts';
export { peerIdFromIdentityKey, peerIdFromIdentitySeed } from './identity.ts';
export { topicName, TOPIC_KINDS } from './topics.ts';
export { blocksProtocol, statusProtocol } from './reqresp.ts';
export { directProtocol } from './direct.ts';
export type {
  BlockRangeProvider,
  DirectLimits,
  GossipSubscriber,
  GossipVerdict,
  P2PLogger,
  P2PNode,
  P2POptions,
  PeerEvent,
  PeerStatus,
  RateLimit,
  StatusProvider,
  SyncLimits,
  TopicKind,
} from './types.ts';
