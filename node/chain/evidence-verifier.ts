import type { SignatureSet } from '../../core/signature-sets.ts';
import type { ValidatorSet } from '../../core/validators.ts';
import { defaultCrypto, type ConsensusCrypto } from '../../consensus/crypto.ts';
import { verifyEvidence } from '../../consensus/evidence.ts';
import { decodeEvidence, type Evidence } from '../../core/evidence.ts';
import { messageSigningBytes } from '../../core/signed-core.ts';
import type { EvidenceRules } from '../../vm/index.ts';

/**
 * consensus/evidence.ts's verifyEvidence with the two signature checks deferred: they are
 * signature sets (below), verified with the rest of the block's signatures.
 */
const signaturesApart: ConsensusCrypto = { ...defaultCrypto, verify: () => true };

function decoded(body: Uint8Array): Evidence | undefined {
  try {
    return decodeEvidence(body);
  } catch {
    return undefined;
  }
}

/** The evidence rules vm/ applies to evidence txs (vm/ cannot import consensus/; the node injects them). */
export function evidenceRules(chainId: string): EvidenceRules {
  return {
    check(body: Uint8Array, validators: ValidatorSet): boolean {
      const e = decoded(body);
      return e !== undefined && verifyEvidence(e, validators, chainId, signaturesApart) === true;
    },
    signatureSets(body: Uint8Array, validators: ValidatorSet): readonly SignatureSet[] | undefined {
      const e = decoded(body);
      const index = e === undefined ? -1 : validators.indexOf(e.first.author);
      if (e === undefined || index < 0) return undefined;
      const publicKey = validators.at(index).identityKey;
      return [e.first, e.second].map((m) => ({ kind: 'ed25519', publicKey, message: messageSigningBytes(chainId, m), signature: m.signature }));
    },
  };
}
