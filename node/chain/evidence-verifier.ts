import type { ValidatorSet } from '../../core/validators.ts';
import type { ConsensusCrypto } from '../../consensus/crypto.ts';
import { decodeEvidence } from '../../core/evidence.ts';
import { verifyEvidence } from '../../consensus/evidence.ts';

/** The verifier vm/ calls for evidence txs (vm/ cannot import consensus/; the node injects it). */
export function evidenceVerifier(chainId: string, crypto?: ConsensusCrypto): (body: Uint8Array, validators: ValidatorSet) => boolean {
  return (body, validators) => {
    try {
      return verifyEvidence(decodeEvidence(body), validators, chainId, crypto) === true;
    } catch {
      return false;
    }
  };
}
