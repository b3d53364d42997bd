import type { SignatureSet } from '../../core/signature-sets.ts';
import { defaultCrypto, type ConsensusCrypto } from '../../consensus/crypto.ts';

const LIMIT = 4096;

/** A ConsensusCrypto that remembers successes, and can be told of sets verified elsewhere (the worker pool). */
export interface CachingCrypto extends ConsensusCrypto {
  /** `set` verified (elsewhere): the same question is answered true from now on. Only Ed25519 and single BLS sets are kept. */
  remember(set: SignatureSet): void;
}

function idOf(kind: string, publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): string {
  return kind + Buffer.concat([publicKey, signature, message]).toString('base64');
}

/**
 * Consensus messages are verified twice (gossip validation, then the state machine);
 * remembering recent successful verifications makes the second one free. Gossip
 * validation verifies through the worker pool and tells this cache what passed
 * (node/verify/ahead.ts), so the state machine finds the answers here. Only successes are
 * cached, keyed by (kind, key, message, signature), the oldest forgotten first.
 */
export function cachingCrypto(base: ConsensusCrypto = defaultCrypto): CachingCrypto {
  const ok = new Set<string>();
  const add = (id: string) => {
    if (ok.has(id)) return;
    if (ok.size >= LIMIT) ok.delete(ok.values().next().value!);
    ok.add(id);
  };
  const cached =
    (kind: string, verify: (pk: Uint8Array, m: Uint8Array, s: Uint8Array) => boolean) =>
    (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => {
      const id = idOf(kind, publicKey, message, signature);
      if (ok.has(id)) return true;
      const valid = verify(publicKey, message, signature);
      if (valid) add(id);
      return valid;
    };
  return {
    ...base,
    verify: cached('e', (k, m, s) => base.verify(k, m, s)),
    blsVerify: cached('b', (k, m, s) => base.blsVerify(k, m, s)),
    remember(set) {
      if (set.kind === 'ed25519') add(idOf('e', set.publicKey, set.message, set.signature));
      else if (set.kind === 'bls') add(idOf('b', set.publicKey, set.message, set.signature));
    },
  };
}
