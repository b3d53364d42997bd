import { ed25519Verify } from '../../core/keys.ts';
import { defaultCrypto, type ConsensusCrypto } from '../../consensus/crypto.ts';

const LIMIT = 4096;

/**
 * Consensus messages are verified twice (gossip validation, then the state machine);
 * remembering recent successful Ed25519 verifications makes the second one free.
 * Only successes are cached, keyed by (key, message, signature).
 */
export function cachingCrypto(): ConsensusCrypto {
  const ok = new Set<string>();
  return {
    ...defaultCrypto,
    verify(publicKey, message, signature) {
      const id = Buffer.concat([publicKey, signature, message]).toString('base64');
      if (ok.has(id)) return true;
      const valid = ed25519Verify(publicKey, message, signature);
      if (valid) {
        if (ok.size >= LIMIT) ok.delete(ok.values().next().value!);
        ok.add(id);
      }
      return valid;
    },
  };
}
