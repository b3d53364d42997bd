import { equalBytes, toHex } from '../../../core/bytes.ts';
import { decodeEvidence, encodeEvidence } from '../../../core/evidence.ts';
import { decodeTransferBody, encodeTransferBody } from '../../../core/tx/transfer.ts';
import { TxType } from '../../../core/tx/types.ts';
import { decodeValidatorVoteBody, encodeValidatorVoteBody } from '../../../core/tx/validator-vote.ts';
import { decodeTx, encodeTx, verifyTxSignature, type Tx } from '../../../core/tx.ts';
import { describeTx, txHandler } from '../../../vm/index.ts';
import { txCorpus } from '../corpus.ts';
import { fuzzNetwork } from '../fixtures.ts';
import { violation, type FuzzTarget } from '../harness.ts';
import { binaryInputs } from '../mutate.ts';

function sameBytes(what: string, a: Uint8Array, b: Uint8Array): void {
  if (!equalBytes(a, b)) throw violation(`${what}: re-encoding differs (${toHex(a).slice(0, 80)} vs ${toHex(b).slice(0, 80)})`);
}

/** The body decoders clients and the vm share: every accepted body re-encodes to itself. */
function checkBody(tx: Tx): string {
  if (tx.type === TxType.transfer) sameBytes('transfer body', encodeTransferBody(decodeTransferBody(tx.body)), tx.body);
  else if (tx.type === TxType.validatorVote) sameBytes('validator-vote body', encodeValidatorVoteBody(decodeValidatorVoteBody(tx.body)), tx.body);
  else if (tx.type === TxType.evidence) sameBytes('evidence body', encodeEvidence(decodeEvidence(tx.body)), tx.body);
  const handler = txHandler(tx.type);
  if (handler === undefined) return 'unknown type';
  handler.decodeBody(tx.body);
  return 'body ok';
}

/**
 * Transaction bytes as `joule_sendRawTransaction`, gossip and blocks deliver them: the
 * envelope decoder, the signature check, every body decoder (core's and the vm registry's)
 * and the RPC description of a tx. Accepted envelopes and bodies re-encode to the very bytes
 * they came from (canonical encoding), and decode(encode(tx)) gives the same tx.
 */
export const txTarget: FuzzTarget = {
  name: 'tx',
  description: 'tx envelope and body decoding (core/tx.ts, core/tx/*, vm registry), signature check, describeTx',
  quickRuns: 2000,
  reaches: ['body ok', 'unknown type'],
  codes: ['CODEC_MALFORMED', 'CODEC_NON_CANONICAL', 'CODEC_WRONG_TYPE', 'TX_OVERSIZE', 'TX_INVALID_FIELD', 'CONSENSUS_INVALID_MESSAGE'],
  setup() {
    const corpus = txCorpus(fuzzNetwork(2, 2)).map((t) => t.bytes);
    return {
      inputs: binaryInputs(corpus, { maxLength: 256 * 1024 }),
      run(input) {
        const tx = decodeTx(input);
        const again = encodeTx(tx);
        sameBytes('envelope', again, input);
        if (!equalBytes(decodeTx(again).hash, tx.hash)) throw violation('decode(encode(tx)) has another hash');
        verifyTxSignature(tx);
        describeTx(tx);
        return checkBody(tx);
      },
    };
  },
};
