import type { ConsensusMessage } from '../../../consensus/messages.ts';
import { cachingCrypto } from '../../../node/consensus/verify-cache.ts';
import { ConsensusGossip } from '../../../node/net/consensus-gossip.ts';
import { consensusTranscript } from '../corpus.ts';
import { fuzzNetwork, openFuzzChain } from '../fixtures.ts';
import { violation, type FuzzTarget } from '../harness.ts';
import { binaryInputs } from '../mutate.ts';

/**
 * Bytes on the consensus topic (gossip and direct messages), through the subscriber a node
 * uses (node/net/consensus-gossip.ts): decoding, signatures verified ahead on the
 * verification service, message-check against a real chain's validator set (the next
 * height with its proposer rotation, later heights without). `validate` returns a verdict
 * or throws only on this node's own bug (a crash here); an accepted message is handed on
 * decoded, exactly once.
 */
export const gossipConsensusTarget: FuzzTarget = {
  name: 'gossip-consensus',
  description: 'consensus topic: ConsensusGossip.validate/handle (node/net/consensus-gossip.ts) on a real chain',
  quickRuns: 1500,
  reaches: ['accept', 'ignore', 'reject'],
  async setup(env) {
    const net = fuzzNetwork(4, 0);
    const chain = await openFuzzChain(env.tmpDir, net);
    const t = consensusTranscript(net);
    let delivered: ConsensusMessage[] = [];
    const gossip = new ConsensusGossip({ chain, crypto: cachingCrypto(), rejected: () => {}, deliver: (_data, m) => delivered.push(m) });
    return {
      inputs: binaryInputs(t.messages),
      async run(input) {
        delivered = [];
        const verdict = await gossip.validate(input);
        if (verdict === 'accept') {
          gossip.handle(input);
          if (delivered.length !== 1) throw violation(`an accepted message was delivered ${delivered.length} times`);
        }
        return verdict;
      },
      close: () => chain.close(),
    };
  },
};
