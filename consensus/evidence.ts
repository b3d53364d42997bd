import { equalBytes } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import type { Evidence } from '../core/evidence.ts';
import { KIND_NAMES, messageSigningBytes } from '../core/signed-core.ts';
import type { ValidatorSet } from '../core/validators.ts';
import { defaultCrypto, type ConsensusCrypto } from './crypto.ts';

/**
 * Checks equivocation evidence (its wire format is core/evidence.ts). Pure; used by block
 * validation (the evidence tx, through the verifier node/ gives vm/) and RPC: both
 * messages are for the same kind, height and round, by the same member of `validators`
 * (the set of that height), signed by it, and sign different content. Returns true or
 * the typed reason.
 */
export function verifyEvidence(e: Evidence, validators: ValidatorSet, chainId: string, crypto: ConsensusCrypto = defaultCrypto): true | JouleError {
  const bad = (why: string) => new JouleError(ErrorCode.CONSENSUS_INVALID_MESSAGE, why, 'evidence');
  const { first: a, second: b } = e;
  if (a.kind !== b.kind || a.height !== b.height || a.round !== b.round) return bad('messages differ in kind, height or round');
  if (!equalBytes(a.author, b.author)) return bad('messages have different authors');
  const index = validators.indexOf(a.author);
  if (index < 0) return new JouleError(ErrorCode.CONSENSUS_NOT_VALIDATOR, 'author is not in the validator set', 'evidence.first.author');
  const sa = messageSigningBytes(chainId, a);
  const sb = messageSigningBytes(chainId, b);
  if (equalBytes(sa, sb)) return bad(`both ${KIND_NAMES[a.kind]} messages sign the same content`);
  const key = validators.at(index).identityKey;
  if (!crypto.verify(key, sa, a.signature)) return bad('first signature does not verify');
  if (!crypto.verify(key, sb, b.signature)) return bad('second signature does not verify');
  return true;
}
