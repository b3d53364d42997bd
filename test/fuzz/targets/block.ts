import { blockHash, decodeBlock, decodeCertificate, encodeBlock, encodeCertificate, encodeHeader, headerFromWire } from '../../../core/block.ts';
import { equalBytes } from '../../../core/bytes.ts';
import { decode } from '../../../core/codec.ts';
import { isJouleError } from '../../../core/errors.ts';
import { DEFAULT_PARAMS } from '../../../core/params.ts';
import { defaultBlockInfo } from '../../../consensus/types.ts';
import { decodeCertifiedBlock, encodeCertifiedBlock } from '../../../node/blocks/block-import.ts';
import { certifiedItems, consensusTranscript, txCorpus } from '../corpus.ts';
import { fuzzNetwork } from '../fixtures.ts';
import { violation, type FuzzTarget } from '../harness.ts';
import { binaryInputs } from '../mutate.ts';

/** Runs one decoder: a JouleError means "not this kind of input"; anything else propagates. */
function attempt<T>(decodeIt: () => T): T | undefined {
  try {
    return decodeIt();
  } catch (e) {
    if (isJouleError(e)) return undefined;
    throw e;
  }
}

/**
 * Block, header, certificate and certified-block bytes (sync responses, block gossip,
 * proposals): each decoder in turn; whatever one accepts re-encodes to the same bytes, and
 * the digest consensus reads from a block (defaultBlockInfo) agrees with the block's hash.
 */
export const blockTarget: FuzzTarget = {
  name: 'block',
  description: 'block, header, certificate and certified-block decoding (core/block.ts, node/blocks/block-import.ts)',
  quickRuns: 1500,
  reaches: ['block', 'certified', 'certificate', 'header'],
  setup() {
    const net = fuzzNetwork(4, 2);
    const t = consensusTranscript(net);
    const txs = txCorpus(net).map((x) => x.bytes);
    const withTxs = decodeBlock(t.commits[1]!.block);
    const full = encodeBlock({ header: { ...withTxs.header, txCount: txs.length }, txs });
    const corpus = [
      ...t.commits.map((c) => c.block),
      full,
      ...certifiedItems(t),
      ...t.commits.map((c) => encodeCertificate(c.certificate)),
      encodeHeader(withTxs.header),
    ];
    const maxBlockBytes = DEFAULT_PARAMS.maxBlockBytes + 64 * 1024;
    return {
      inputs: binaryInputs(corpus),
      run(input) {
        const accepted: string[] = [];
        const block = attempt(() => decodeBlock(input, maxBlockBytes));
        if (block !== undefined) {
          accepted.push('block');
          if (!equalBytes(encodeBlock(block), input)) throw violation('block: re-encoding differs');
          const info = defaultBlockInfo(input);
          if (!equalBytes(info.digest, blockHash(block.header))) throw violation('block: defaultBlockInfo digest differs from the header hash');
        }
        const header = attempt(() => headerFromWire(decode(input, 'header')));
        if (header !== undefined) {
          accepted.push('header');
          if (!equalBytes(encodeHeader(header), input)) throw violation('header: re-encoding differs');
        }
        const cert = attempt(() => decodeCertificate(input));
        if (cert !== undefined) {
          accepted.push('certificate');
          if (!equalBytes(encodeCertificate(cert), input)) throw violation('certificate: re-encoding differs');
        }
        const item = attempt(() => decodeCertifiedBlock(input, maxBlockBytes));
        if (item !== undefined) {
          accepted.push('certified');
          if (!equalBytes(encodeCertifiedBlock(item.blockBytes, item.certificate), input)) throw violation('certified block: re-encoding differs');
          if (!equalBytes(encodeBlock(item.block), item.blockBytes)) throw violation('certified block: its block re-encodes differently');
        }
        return accepted.length === 0 ? 'rejected' : accepted.join('+');
      },
    };
  },
};
