import { blockHash, decodeBlock } from '../../../core/block.ts';
import { equalBytes, toHex } from '../../../core/bytes.ts';
import { decode, encode, readArray, type Encodable } from '../../../core/codec.ts';
import { encodeEvidence } from '../../../core/evidence.ts';
import { verifyCertificate } from '../../../consensus/certificate.ts';
import { keySigner } from '../../../consensus/crypto.ts';
import { verifyEvidence } from '../../../consensus/evidence.ts';
import { QbftMachine } from '../../../consensus/machine.ts';
import { cachingCrypto } from '../../../consensus/testing/fixtures.ts';
import type { ConsensusAction, ConsensusEvent } from '../../../consensus/types.ts';
import { genesisValidatorSet } from '../../../genesis/index.ts';
import { consensusTranscript, emptyBlock } from '../corpus.ts';
import { fuzzNetwork } from '../fixtures.ts';
import { violation, type FuzzTarget } from '../harness.ts';
import { binaryInputs } from '../mutate.ts';

/** Most events one input drives (a longer list is cut: the machine's work per input stays bounded). */
const MAX_EVENTS = 512;

/**
 * Sequences of network input into the pure QBFT state machine of one validator: an input
 * is a canonical list whose byte strings are messages (as gossip delivers them, undecoded),
 * integers timeouts of that round, and nil a `resend`. The machine answers `validate` with
 * valid and `propose` with a block, moves to height 2 after a commit, and must never throw.
 * Properties: every certificate it commits verifies against the set and hashes its block,
 * it never commits two blocks at one height, and all evidence it reports verifies.
 * The corpus is a real transcript (round change with a prepared certificate, re-proposal,
 * two heights, an equivocation), so mutations reach deep into the rules.
 */
export const consensusMachineTarget: FuzzTarget = {
  name: 'consensus-machine',
  description: 'sequences of messages, timeouts and resends into one QBFT machine (consensus/machine.ts)',
  quickRuns: 300,
  reaches: ['commit h1', 'commit h2', 'evidence'],
  codes: ['CODEC_MALFORMED', 'CODEC_NON_CANONICAL', 'CODEC_WRONG_TYPE'],
  limitMs: 10_000,
  setup() {
    const net = fuzzNetwork(4, 0);
    const chainId = net.genesis.chainId;
    const set = genesisValidatorSet(net.genesis);
    const t = consensusTranscript(net);
    const me = net.validators.find((v) => equalBytes(v.address, set.at(3).address))!;
    const signer = keySigner(me.address, me.identity.seed, me.consensus.secretKey);
    const crypto = cachingCrypto();
    const height1 = t.messages.filter((_, i) => t.decoded[i]!.height === 1);
    const sequences: Encodable[][] = [
      t.messages,
      height1,
      [...height1].reverse(),
      [...height1.slice(0, 6), 0, ...height1.slice(6)],
      [null, 0, 1, ...t.messages.filter((_, i) => t.decoded[i]!.kind === 3), null],
    ];
    const corpus = sequences.map((s) => encode(s));
    return {
      // Mostly tree mutations: they keep the list readable and mutate the messages inside it.
      inputs: binaryInputs(corpus, { weights: [1, 12, 2, 1, 1] }),
      run(input) {
        const events = readArray(decode(input, 'sequence'), 'sequence').slice(0, MAX_EVENTS);
        const machine = new QbftMachine({ chainId, signer, requestTimeoutMs: 1000, crypto });
        const committed = new Map<number, string>();
        let outcome = 'no commit';
        const act = (actions: ConsensusAction[], depth = 0): void => {
          if (depth > 8) throw violation('actions answered more than 8 levels deep');
          for (const a of actions) {
            if (a.type === 'validate') act(machine.step({ type: 'validated', height: a.height, digest: a.digest, verdict: 'valid' }), depth + 1);
            else if (a.type === 'propose') {
              const block = emptyBlock(net, a.height, a.round, me.address, new Uint8Array(32), 7);
              act(machine.step({ type: 'block-proposed', height: a.height, round: a.round, block }), depth + 1);
            } else if (a.type === 'commit') {
              const header = decodeBlock(a.block).header;
              const digest = toHex(blockHash(header));
              if (toHex(a.certificate.blockHash) !== digest) throw violation('committed certificate does not certify the committed block');
              const verdict = verifyCertificate(a.certificate, set, chainId, crypto);
              if (verdict !== true) throw violation(`committed certificate does not verify: ${verdict.message}`);
              const before = committed.get(a.height);
              if (before !== undefined && before !== digest) throw violation(`two blocks committed at height ${a.height}`);
              committed.set(a.height, digest);
              outcome = `commit h${a.height}`;
              act(machine.step({ type: 'new-height', height: a.height + 1, validators: set, previousProposer: header.proposer }), depth + 1);
            } else if (a.type === 'evidence') {
              const verdict = verifyEvidence(a.evidence, set, chainId, crypto);
              if (verdict !== true)
                throw violation(`reported evidence does not verify: ${verdict.message} (${toHex(encodeEvidence(a.evidence)).slice(0, 64)}…)`);
              if (outcome === 'no commit') outcome = 'evidence';
            }
          }
        };
        act(machine.step({ type: 'start', height: 1, validators: set, previousProposer: null, wal: [] }));
        for (const e of events) {
          let event: ConsensusEvent;
          if (e instanceof Uint8Array) event = { type: 'message', bytes: e };
          else if (typeof e === 'number') event = { type: 'timeout', height: machine.height, round: e };
          else if (e === null) event = { type: 'resend' };
          else continue;
          const actions = machine.step(event);
          if (event.type === 'message' && !actions.some((a) => a.type === 'verdict')) throw violation('a message got no verdict');
          act(actions);
        }
        return outcome;
      },
    };
  },
};
