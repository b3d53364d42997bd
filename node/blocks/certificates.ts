import type { BlockHeader, CommitCertificate } from '../../core/block.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { verifyCertificate } from '../../consensus/certificate.ts';
import { defaultCrypto, type ConsensusCrypto } from '../../consensus/crypto.ts';
import type { ValidatorSetLookup } from '../chain/next-block.ts';

/**
 * Checks that `cert` proves block `hash` (of `header`) final: right height and hash, and a
 * quorum of the set named in the header sealed it (one fast-aggregate-verify, through
 * `crypto`: node/verify/ahead.ts verifiedAhead answers it from the worker pool).
 */
export function checkCertificate(
  cert: CommitCertificate,
  header: BlockHeader,
  hash: Uint8Array,
  sets: ValidatorSetLookup,
  field = 'certificate',
  crypto: ConsensusCrypto = defaultCrypto,
): void {
  if (cert.height !== header.height)
    throw new JouleError(ErrorCode.CERT_INVALID, `certificate is for height ${cert.height}, block is ${header.height}`, `${field}.height`);
  if (!equalBytes(cert.blockHash, hash)) throw new JouleError(ErrorCode.CERT_INVALID, 'certificate is for another block', `${field}.blockHash`);
  const set = sets(header.validatorSetHash);
  if (set === undefined) throw new JouleError(ErrorCode.CERT_INVALID, `unknown validator set ${toHex(header.validatorSetHash).slice(0, 16)}…`, `${field}`);
  const ok = verifyCertificate(cert, set, header.chainId, crypto);
  if (ok !== true) throw new JouleError(ErrorCode.CERT_INVALID, ok.message, `${field}`);
}

/** The header's `parentCertificate` rule: none after genesis, a valid certificate of the parent otherwise. */
export function parentCertificateChecker(sets: ValidatorSetLookup) {
  return (cert: CommitCertificate | null, parent: BlockHeader, parentHash: Uint8Array, crypto: ConsensusCrypto = defaultCrypto): void => {
    if (parent.height === 0) {
      if (cert !== null)
        throw new JouleError(ErrorCode.BLOCK_INVALID, 'the block after genesis carries no parent certificate', 'block.header.parentCertificate');
      return;
    }
    if (cert === null) throw new JouleError(ErrorCode.BLOCK_INVALID, 'missing the parent commit certificate', 'block.header.parentCertificate');
    try {
      checkCertificate(cert, parent, parentHash, sets, 'block.header.parentCertificate', crypto);
    } catch (e) {
      throw new JouleError(ErrorCode.BLOCK_INVALID, (e as Error).message);
    }
  };
}
