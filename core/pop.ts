import { Domain, signingBytes } from './domain.ts';
import { blsSign } from './keys.ts';
import { verifySignatureSet, type BlsSet } from './signature-sets.ts';

/**
 * BLS proof of possession: each validator signs its own BLS key (bound to its identity
 * key and the chain id). Without it, a validator could register a "rogue" key computed
 * from the others' keys and forge an aggregate commit certificate alone. Lives in core so
 * genesis validation and the vm's validator-vote transaction check the very same message.
 */
export function popMessage(chainId: string, blsKey: Uint8Array, identityKey: Uint8Array): Uint8Array {
  return signingBytes(Domain.proofOfPossession, chainId, [blsKey, identityKey]);
}

export function signProofOfPossession(chainId: string, blsSecretKey: Uint8Array, blsKey: Uint8Array, identityKey: Uint8Array): Uint8Array {
  return blsSign(blsSecretKey, popMessage(chainId, blsKey, identityKey));
}

/** The proof as a signature set (verified with the others of its tx, off the event loop). */
export function proofOfPossessionSet(chainId: string, blsKey: Uint8Array, identityKey: Uint8Array, proof: Uint8Array): BlsSet {
  return { kind: 'bls', publicKey: blsKey, message: popMessage(chainId, blsKey, identityKey), signature: proof };
}

/** Never throws: a malformed key or proof, or a chain id with no encoding (a lone surrogate), verifies as false. */
export function verifyProofOfPossession(chainId: string, blsKey: Uint8Array, identityKey: Uint8Array, proof: Uint8Array): boolean {
  let set: BlsSet;
  try {
    set = proofOfPossessionSet(chainId, blsKey, identityKey, proof);
  } catch {
    return false; // the message cannot be formed (codec refusal): nothing can have signed it
  }
  return verifySignatureSet(set);
}

// ---- devices (core/device.ts) ----
// A device key's proof binds the key to the chain only: the key is made (and its proof
// printed, `joule keys pop`) before the device has an id on chain. The identity field is
// empty, which no validator proof has (its identity key is 32 bytes), so neither kind of
// proof passes for the other.
const NO_IDENTITY = new Uint8Array(0);

export function devicePopMessage(chainId: string, blsKey: Uint8Array): Uint8Array {
  return popMessage(chainId, blsKey, NO_IDENTITY);
}

export function signDeviceProofOfPossession(chainId: string, blsSecretKey: Uint8Array, blsKey: Uint8Array): Uint8Array {
  return blsSign(blsSecretKey, devicePopMessage(chainId, blsKey));
}

export function deviceProofOfPossessionSet(chainId: string, blsKey: Uint8Array, proof: Uint8Array): BlsSet {
  return { kind: 'bls', publicKey: blsKey, message: devicePopMessage(chainId, blsKey), signature: proof };
}
