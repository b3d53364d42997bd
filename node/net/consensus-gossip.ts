import { ErrorCode, isJouleError } from '../../core/errors.ts';
import type { ConsensusCrypto } from '../../consensus/crypto.ts';
import { checkMessage } from '../../consensus/message-check.ts';
import { decodeMessage, type ConsensusMessage } from '../../consensus/messages.ts';
import { defaultBlockInfo, type BlockInfo } from '../../consensus/types.ts';
import type { GossipSubscriber, GossipVerdict } from '../../p2p/index.ts';
import type { Chain } from '../chain/chain.ts';
import type { CachingCrypto } from '../consensus/verify-cache.ts';
import { verifyAhead } from '../verify/ahead.ts';
import { decodeOnce } from './decode-once.ts';

export interface ConsensusGossipDeps {
  readonly chain: Chain;
  /** Shared with the state machine, which finds the verdicts of gossip validation here. */
  readonly crypto: CachingCrypto;
  /** A refused message, by typed code. */
  readonly rejected: (code: string) => void;
  /** An accepted message, decoded once, for the consensus driver. */
  readonly deliver: (data: Uint8Array, decoded: ConsensusMessage) => void;
}

/**
 * The consensus topic (gossip and direct messages): nothing failing the checks a message
 * can pass before its height runs is relayed. Decoding, signatures and attachments
 * (consensus/message-check.ts), with the rotation of the next height known and of later
 * heights not; the state machine does the rest (rounds, duplicates, equivocation). The
 * signatures are verified first on the worker pool (consensus priority, ahead of every
 * admission), which leaves their verdicts in the caching crypto for the check itself and,
 * later, for the state machine.
 *
 * Only a typed rejection of the input is the sender's fault; anything else thrown here is
 * this node's bug and propagates (p2p/ logs it and ignores the message, penalising nobody).
 */
export class ConsensusGossip implements GossipSubscriber {
  private readonly deps: ConsensusGossipDeps;
  private readonly decode: (data: Uint8Array) => ConsensusMessage;

  constructor(deps: ConsensusGossipDeps) {
    this.deps = deps;
    this.decode = decodeOnce((data) => decodeMessage(data, deps.chain.genesis.params.maxBlockBytes + 64 * 1024));
  }

  async validate(data: Uint8Array): Promise<GossipVerdict> {
    const { chain, crypto } = this.deps;
    let m: ConsensusMessage;
    try {
      m = this.decode(data);
    } catch (e) {
      if (!isJouleError(e)) throw e;
      this.deps.rejected(ErrorCode.CONSENSUS_INVALID_MESSAGE);
      return 'reject';
    }
    if (m.height <= chain.height) return 'ignore';
    const blocks = new Map<Uint8Array, BlockInfo>();
    const blockInfo = (block: Uint8Array): BlockInfo => {
      let info = blocks.get(block);
      if (info === undefined) blocks.set(block, (info = defaultBlockInfo(block)));
      return info;
    };
    const check = (c: ConsensusCrypto) => {
      const previousProposer = m.height > chain.height + 1 ? undefined : chain.height === 0 ? null : chain.head.header.proposer;
      return checkMessage({ chainId: chain.genesis.chainId, height: m.height, validators: chain.validators, previousProposer, crypto: c }, m, blockInfo);
    };
    try {
      await verifyAhead(chain.signatures.service, { priority: 'consensus' }, check, (set) => crypto.remember(set));
    } catch {
      // The service stopped: the check below verifies on this thread.
    }
    if (m.height <= chain.height) return 'ignore'; // the head moved meanwhile
    const [verdict] = check(crypto);
    if (verdict === 'reject') this.deps.rejected(ErrorCode.CONSENSUS_INVALID_MESSAGE);
    return verdict;
  }

  handle(data: Uint8Array): void {
    this.deps.deliver(data, this.decode(data));
  }
}
