import type { SignatureSet } from '../../core/signature-sets.ts';
import { defaultCrypto, type ConsensusCrypto } from '../../consensus/crypto.ts';
import type { VerificationService, VerifyOptions } from './service.ts';

/**
 * Verifies through `service` the signatures a pure consensus/ check will ask for, before it
 * runs for real. The check (it takes a ConsensusCrypto) first runs with a crypto that
 * records every question and answers yes; the recorded sets go to the service; those that
 * verify are handed to `remember` (a CachingCrypto), so that the real run, afterwards, finds
 * its answers cached. The real run decides: a question the dry run did not ask, or a set
 * that failed, is answered on the caller's thread, exactly as without the service.
 */
export async function verifyAhead(
  service: VerificationService,
  opts: VerifyOptions,
  dryRun: (crypto: ConsensusCrypto) => unknown,
  remember: (set: SignatureSet) => void,
): Promise<void> {
  const sets: SignatureSet[] = [];
  const recorder: ConsensusCrypto = {
    verify(publicKey, message, signature) {
      sets.push({ kind: 'ed25519', publicKey, message, signature });
      return true;
    },
    blsVerify(publicKey, message, signature) {
      sets.push({ kind: 'bls', publicKey, message, signature });
      return true;
    },
    blsAggregate: defaultCrypto.blsAggregate,
    blsFastAggregateVerify(message, publicKeys, signature) {
      sets.push({ kind: 'bls-fast-aggregate', publicKeys, message, signature });
      return true;
    },
  };
  try {
    dryRun(recorder);
  } catch {
    return; // the real run will say what is wrong
  }
  if (sets.length === 0) return;
  const invalid = new Set(await service.findInvalid(sets, opts));
  for (const [i, set] of sets.entries()) if (!invalid.has(i)) remember(set);
}
