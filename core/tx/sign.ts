import { ed25519FromSeed } from '../keys.ts';
import { signTx, type Tx } from '../tx.ts';
import type { TxTypeId } from './types.ts';

/** What every client-built tx needs besides its body. */
export interface SenderArgs {
  readonly chainId: string;
  /** The sender's 32-byte Ed25519 seed. */
  readonly seed: Uint8Array;
  readonly nonce: number;
  readonly fee: bigint | number;
}

// Deriving the public key from a seed costs two KeyObject constructions; clients that
// sign many transactions with one key (load generators) reuse the seed array.
const publicKeyBySeed = new WeakMap<Uint8Array, Uint8Array>();

function publicKeyOf(seed: Uint8Array): Uint8Array {
  let pk = publicKeyBySeed.get(seed);
  if (pk === undefined) {
    pk = ed25519FromSeed(seed).publicKey;
    publicKeyBySeed.set(seed, pk);
  }
  return pk;
}

/** Wraps an encoded body in the envelope and signs it with the sender's seed. */
export function signBody(args: SenderArgs, type: TxTypeId, body: Uint8Array): Tx {
  return signTx({ chainId: args.chainId, type, sender: publicKeyOf(args.seed), nonce: args.nonce, fee: BigInt(args.fee), body }, args.seed);
}
