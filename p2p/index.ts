/** p2p/: the libp2p host (gossip topics, block sync protocols, peer gating). See README.md. */
export { createP2PNode } from './node.ts';
export { peerIdFromIdentityKey, peerIdFromIdentitySeed } from './identity.ts';
export { topicName, TOPIC_KINDS } from './topics.ts';
export { blocksProtocol, statusProtocol } from './reqresp.ts';
export type {
  BlockRangeProvider,
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
