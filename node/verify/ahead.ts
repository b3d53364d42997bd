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
  const sets = recorded(dryRun);
  if (sets.length === 0) return;
  const invalid = new Set(await service.findInvalid(sets, opts));
  for (const [i, set] of sets.entries()) if (!invalid.has(i)) remember(set);
}

/**
 * verifyAhead for one check: returns the crypto to run it with for real, which answers
 * from the service's verdicts (only successes are kept) and verifies anything else itself.
 * Never rejects: if the service fails, the check verifies everything itself.
 */
export async function verifiedAhead(service: VerificationService, opts: VerifyOptions, dryRun: (crypto: ConsensusCrypto) => unknown): Promise<ConsensusCrypto> {
  const valid = new Set<string>();
  try {
    await verifyAhead(service, opts, dryRun, (set) => valid.add(idOf(set)));
  } catch {
    return defaultCrypto; // the service stopped: everything is verified on this thread
  }
  if (valid.size === 0) return defaultCrypto;
  return {
    ...defaultCrypto,
    verify: (publicKey, message, signature) =>
      valid.has(idOf({ kind: 'ed25519', publicKey, message, signature })) || defaultCrypto.verify(publicKey, message, signature),
    blsVerify: (publicKey, message, signature) =>
      valid.has(idOf({ kind: 'bls', publicKey, message, signature })) || defaultCrypto.blsVerify(publicKey, message, signature),
    blsFastAggregateVerify: (message, publicKeys, signature) =>
      valid.has(idOf({ kind: 'bls-fast-aggregate', publicKeys, message, signature })) || defaultCrypto.blsFastAggregateVerify(message, publicKeys, signature),
  };
}

function idOf(set: SignatureSet): string {
  const parts =
    set.kind === 'ed25519' || set.kind === 'bls'
      ? [set.publicKey, set.message]
      : set.kind === 'bls-fast-aggregate'
        ? [...set.publicKeys, set.message]
        : [...set.publicKeys, ...set.messages];
  // Lengths first, so that no two different sets concatenate to the same bytes.
  return `${set.kind}:${parts.map((p) => p.length).join(',')}:${Buffer.concat([...parts, set.signature]).toString('base64')}`;
}

/** The sets a dry run of `check` asks about (every answer yes); none when it throws. */
function recorded(check: (crypto: ConsensusCrypto) => unknown): SignatureSet[] {
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
    check(recorder);
  } catch {
    return []; // the real run will say what is wrong
  }
  return sets;
}
