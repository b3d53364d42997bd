import { equalBytes } from '../../../core/bytes.ts';
import { isJouleError } from '../../../core/errors.ts';
import { defaultCrypto } from '../../../consensus/crypto.ts';
import type { HeightContext } from '../../../consensus/justification.ts';
import { checkMessage } from '../../../consensus/message-check.ts';
import { decodeMessage, encodeMessage } from '../../../consensus/messages.ts';
import { defaultBlockInfo } from '../../../consensus/types.ts';
import { decodeWalRecord, encodeWalRecord } from '../../../consensus/wal-record.ts';
import { genesisValidatorSet } from '../../../genesis/index.ts';
import { consensusTranscript, walCorpus } from '../corpus.ts';
import { fuzzNetwork } from '../fixtures.ts';
import { violation, type FuzzTarget } from '../harness.ts';
import { binaryInputs } from '../mutate.ts';

/**
 * Consensus message bytes (gossip, direct messages) and WAL records (a damaged disk):
 * decodeMessage and decodeWalRecord re-encode what they accept to the same bytes, and
 * consensus/message-check.ts gives every decoded message a verdict without throwing, both
 * with the height's proposer rotation known (the next height) and unknown (a later one).
 */
export const consensusMessageTarget: FuzzTarget = {
  name: 'consensus-message',
  description: 'QBFT message and WAL record decoding (consensus/messages.ts, wal-record.ts) and consensus/message-check.ts',
  quickRuns: 2000,
  reaches: ['message accept', 'message reject', 'wal record'],
  setup() {
    const net = fuzzNetwork(4, 0);
    const t = consensusTranscript(net);
    const validators = genesisValidatorSet(net.genesis);
    const context = (height: number, known: boolean): HeightContext => ({
      chainId: net.genesis.chainId,
      height,
      validators,
      previousProposer: !known ? undefined : height === 1 ? null : defaultBlockInfo(t.commits[0]!.block).proposer,
      crypto: defaultCrypto,
    });
    return {
      inputs: binaryInputs([...t.messages, ...walCorpus(t)]),
      run(input) {
        let outcome = 'rejected';
        try {
          const m = decodeMessage(input);
          if (!equalBytes(encodeMessage(m), input)) throw violation('message: re-encoding differs');
          const [known] = checkMessage(context(m.height, m.height <= 2), m, defaultBlockInfo);
          checkMessage(context(m.height, false), m, defaultBlockInfo);
          outcome = `message ${known}`;
        } catch (e) {
          if (!isJouleError(e)) throw e;
        }
        try {
          const r = decodeWalRecord(input);
          if (!equalBytes(encodeWalRecord(r), input)) throw violation('WAL record: re-encoding differs');
          outcome = outcome === 'rejected' ? 'wal record' : `${outcome} + wal record`;
        } catch (e) {
          if (!isJouleError(e)) throw e;
        }
        return outcome;
      },
    };
  },
};
