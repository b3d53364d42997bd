import fc from 'fast-check';
import { encode } from '../../../core/codec.ts';
import type { Tx } from '../../../core/tx.ts';
import { Mempool } from '../../../mempool/index.ts';
import type { Chain } from '../../../node/chain/chain.ts';
import { defaultConfig } from '../../../node/home/config.ts';
import { TxAdmission } from '../../../node/txs/admission.ts';
import { NO_ADMISSION_METRICS } from '../../../node/txs/metrics.ts';
import { TxGossip } from '../../../node/txs/tx-gossip.ts';
import { txCorpus } from '../corpus.ts';
import { fuzzNetwork, openFuzzChain } from '../fixtures.ts';
import { violation, type FuzzTarget } from '../harness.ts';
import { binaryInputs } from '../mutate.ts';

/** An admission that lets the harness wait for what gossip started (TxGossip does not wait). */
class WatchedAdmission extends TxAdmission {
  readonly started: Promise<unknown>[] = [];
  readonly admitted: Tx[] = [];
  override submit(bytes: Uint8Array, source: string): Promise<Tx> {
    const p = super.submit(bytes, source);
    this.started.push(
      p.then(
        (tx) => this.admitted.push(tx),
        () => {},
      ),
    );
    return p;
  }
}

/**
 * Tx batches on the txs topic, through the subscriber a node uses (node/txs/tx-gossip.ts):
 * `validate` must give a verdict, and an accepted batch goes through `handle` into the real
 * admission (decode, the rules against the head state of a real chain in LevelDB,
 * signatures, the mempool). Any failure that is not a typed rejection of a tx reaches the
 * subscriber's error hook: a crash. Each input starts from an empty mempool, so an input
 * means the same thing whenever it runs.
 */
export const gossipTxsTarget: FuzzTarget = {
  name: 'gossip-txs',
  description: 'txs topic: TxGossip.validate/handle into TxAdmission and the mempool, on a real chain',
  quickRuns: 800,
  reaches: ['admitted', 'reject'],
  async setup(env) {
    const net = fuzzNetwork(2, 3);
    const chain: Chain = await openFuzzChain(env.tmpDir, net);
    const txs = txCorpus(net).map((t) => t.bytes);
    const corpus = [encode(txs.slice(0, 6)), encode(txs), ...txs.map((t) => encode([t]))];
    const limits = { ...defaultConfig('fuzz').mempool, maxTxs: 64, maxPerSender: 16 };
    return {
      // Mostly batches of mutated txs (they reach admission), and mutations of whole batches.
      inputs: fc.oneof(
        { weight: 3, arbitrary: fc.array(binaryInputs(txs, { maxLength: 16 * 1024 }), { minLength: 1, maxLength: 8 }).map((list) => encode(list)) },
        { weight: 1, arbitrary: binaryInputs(corpus, { maxLength: 1 << 20 }) },
      ),
      async run(input) {
        const admission = new WatchedAdmission(chain, new Mempool(limits), NO_ADMISSION_METRICS);
        const errors: unknown[] = [];
        const gossip = new TxGossip(
          () => {},
          admission,
          (e) => errors.push(e),
        );
        const verdict = gossip.validate(input);
        if (verdict === 'accept') gossip.handle(input);
        await Promise.all(admission.started);
        chain.signatures.verifiedTxs.deleteAll(admission.admitted);
        gossip.stop();
        if (errors.length > 0) throw errors[0];
        if (verdict !== 'accept' && verdict !== 'reject') throw violation(`unexpected verdict ${verdict}`);
        return admission.admitted.length > 0 ? 'admitted' : verdict;
      },
      close: () => chain.close(),
    };
  },
};
