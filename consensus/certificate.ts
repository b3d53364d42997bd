import { commitSealBytes, type CommitCertificate } from '../core/block.ts';
import type { Commit } from '../core/signed-core.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { HASH_LENGTH } from '../core/hash.ts';
import { bitmapFromIndexes, indexesFromBitmap, type ValidatorSet } from '../core/validators.ts';
import { defaultCrypto, type ConsensusCrypto } from './crypto.ts';

export interface Seal {
  /** Index of the signer in the height's sorted validator set. */
  readonly index: number;
  readonly seal: Uint8Array;
}

/**
 * Aggregates commit seals into a certificate and checks it with one fast-aggregate-verify.
 * Returns null when the aggregate does not verify (some seal is bad): the caller then
 * checks seals one by one (the slow path only Byzantine input triggers).
 */
export function aggregateCertificate(
  chainId: string,
  validators: ValidatorSet,
  height: number,
  round: number,
  blockHash: Uint8Array,
  seals: readonly Seal[],
  crypto: ConsensusCrypto = defaultCrypto,
): CommitCertificate | null {
  const sorted = [...seals].sort((a, b) => a.index - b.index);
  let aggregateSignature: Uint8Array;
  try {
    aggregateSignature = crypto.blsAggregate(sorted.map((s) => s.seal));
  } catch {
    return null;
  }
  const certificate: CommitCertificate = {
    height,
    round,
    blockHash,
    aggregateSignature,
    signers: bitmapFromIndexes(
      validators.size,
      sorted.map((s) => s.index),
    ),
  };
  return verifyCertificate(certificate, validators, chainId, crypto) === true ? certificate : null;
}

/**
 * Checks that a quorum of `validators` (the set of the certificate's height) sealed
 * `cert.blockHash` at `cert.height` IN ROUND `cert.round`: one fast-aggregate-verify over
 * commitSealBytes(chain, height, round, hash). Seals of different rounds never aggregate
 * into a valid certificate. Pure; used by sync and
 * block import. Returns true, or the typed reason it is invalid (never throws). The caller
 * must still check that `cert.blockHash` is the hash of the block it certifies.
 */
export function verifyCertificate(
  cert: CommitCertificate,
  validators: ValidatorSet,
  chainId: string,
  crypto: ConsensusCrypto = defaultCrypto,
): true | JouleError {
  const bad = (why: string, field?: string) => new JouleError(ErrorCode.CERT_INVALID, why, field === undefined ? 'certificate' : `certificate.${field}`);
  if (cert.blockHash.length !== HASH_LENGTH) return bad('block hash must be 32 bytes', 'blockHash');
  const indexes = indexesFromBitmap(validators.size, cert.signers);
  if (indexes === undefined) return bad(`signer bitmap does not fit a set of ${validators.size}`, 'signers');
  if (indexes.length < validators.quorum) return bad(`${indexes.length} signers, quorum is ${validators.quorum}`, 'signers');
  const keys = indexes.map((i) => validators.at(i).blsKey);
  const message = commitSealBytes(chainId, cert.height, cert.round, cert.blockHash);
  if (!crypto.blsFastAggregateVerify(message, keys, cert.aggregateSignature)) {
    return bad('aggregate signature does not verify', 'aggregateSignature');
  }
  return true;
}

/**
 * The machine's side: certificate from the COMMITs one (round, digest) has collected
 * (author hex -> COMMIT, verified envelopes of this height and round only). Fast path: one
 * aggregate, one check. If it fails (a Byzantine seal), every seal is checked alone and the
 * bad ones are DELETED from `byAuthor`, so they are not retried; null if fewer than a
 * quorum of good seals remain.
 */
export function certifyCommits(
  chainId: string,
  validators: ValidatorSet,
  height: number,
  round: number,
  digest: Uint8Array,
  byAuthor: Map<string, Commit>,
  crypto: ConsensusCrypto,
): CommitCertificate | null {
  const attempt = (): CommitCertificate | null => {
    const commits = [...byAuthor.values()];
    if (commits.length < validators.quorum) return null;
    const seals = commits.map((c) => ({ index: validators.indexOf(c.author), seal: c.seal }));
    return aggregateCertificate(chainId, validators, height, round, digest, seals, crypto);
  };
  const first = attempt();
  if (first !== null || byAuthor.size < validators.quorum) return first;
  const message = commitSealBytes(chainId, height, round, digest);
  for (const [author, c] of [...byAuthor]) {
    if (!crypto.blsVerify(validators.at(validators.indexOf(c.author)).blsKey, message, c.seal)) byAuthor.delete(author);
  }
  return attempt();
}
