import { blockHash, encodeBlock } from '../../../core/block.ts';
import { isFatal } from '../../../core/errors.ts';
import type { Tx } from '../../../core/tx.ts';
import { buildBlock } from '../../../node/blocks/block-builder.ts';
import { encodeCertifiedBlock } from '../../../node/blocks/block-import.ts';
import type { Chain } from '../../../node/chain/chain.ts';
import { BlockGossip } from '../../../node/net/block-gossip.ts';
import { SerialQueue } from '../../../node/serial-queue.ts';
import { certify, txCorpus } from '../corpus.ts';
import { fuzzNetwork, openFuzzChain, type FuzzNetwork } from '../fixtures.ts';
import { violation, type FuzzTarget } from '../harness.ts';
import { binaryInputs } from '../mutate.ts';

/** Builds, certifies and commits the next block with `txs`; returns it as gossip carries it. */
async function commitNext(chain: Chain, net: FuzzNetwork, txs: readonly Tx[]): Promise<Uint8Array> {
  const context = chain.nextBlockContext();
  const built = await buildBlock({
    context,
    proposer: net.validators[0]!.address,
    round: 0,
    timestamp: chain.head.header.timestamp + 1000,
    candidates: txs,
    signaturesVerified: false,
  });
  const cert = certify(net, context.height, 0, built.hash, [0]);
  await chain.commit(built, cert);
  return encodeCertifiedBlock(encodeBlock(built.block), cert);
}

/** The next block (height + 1) with `txs`, certified, without committing it. */
async function nextItem(chain: Chain, net: FuzzNetwork, txs: readonly Tx[], round = 0): Promise<Uint8Array> {
  const context = chain.nextBlockContext();
  const built = await buildBlock({
    context,
    proposer: net.validators[0]!.address,
    round,
    timestamp: chain.head.header.timestamp + 1000,
    candidates: txs,
    signaturesVerified: false,
  });
  if (built.dropped.length > 0) throw new Error(`the corpus block dropped a tx: ${built.dropped[0]!.error.message}`);
  return encodeCertifiedBlock(encodeBlock(built.block), certify(net, context.height, round, blockHash(built.block.header), [0]));
}

/**
 * Certified blocks on the blocks topic (what observers import), through the subscriber a
 * node uses (node/net/block-gossip.ts) into the real import path: certificate against the
 * validator set the header names, re-execution of every tx on the head state of a real
 * chain, header comparison. The chain stays where it is (the commit is recorded, not
 * written), so every input is judged against the same head. A failure that is not a typed
 * verdict on the block (the subscriber's `failed` hook, the queue's error handler, a fatal
 * error) is a crash.
 */
export const gossipBlocksTarget: FuzzTarget = {
  name: 'gossip-blocks',
  description: 'blocks topic: BlockGossip.validate/handle into importCertified (certificate, re-execution) on a real chain',
  quickRuns: 600,
  reaches: ['imported', 'ignore', 'reject'],
  limitMs: 5_000,
  async setup(env) {
    const net = fuzzNetwork(1, 3);
    const chain = await openFuzzChain(env.tmpDir, net);
    const txs = txCorpus(net);
    const known = [await commitNext(chain, net, []), await commitNext(chain, net, [txs[0]!])];
    const corpus = [
      ...known,
      await nextItem(chain, net, []),
      await nextItem(chain, net, [txs[1]!, txs[2]!, txs[6]!]),
      await nextItem(chain, net, [txs[1]!], 1),
    ];
    const failures: unknown[] = [];
    const queue = new SerialQueue((e) => failures.push(e));
    let commits = 0;
    const gossip = new BlockGossip({
      chain,
      queue,
      commit: async () => {
        commits++;
      },
      imported: async () => {},
      ahead: () => {},
      rejected: () => {},
      penalize: async () => {},
      failed: (_peer, e) => failures.push(e),
    });
    return {
      inputs: binaryInputs(corpus, { maxLength: 1 << 20 }),
      async run(input) {
        failures.length = 0;
        commits = 0;
        const verdict = gossip.validate(input);
        if (verdict === 'accept') {
          gossip.handle(input, 'peer');
          await queue.idle();
        }
        const failure = failures[0];
        if (failure !== undefined) throw isFatal(failure) ? violation(`a gossiped block made the node halt: ${(failure as Error).message}`) : failure;
        return commits > 0 ? 'imported' : verdict;
      },
      close: () => chain.close(),
    };
  },
};
