import { decode, encode, readAmount, readArray, readBytes, readString, readUint, type Encodable } from './codec.ts';
import { Domain, signingBytes } from './domain.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { sha256 } from './hash.ts';
import { addressFromPublicKey, ED25519_PUBLIC_KEY_LENGTH, ED25519_SIGNATURE_LENGTH, ed25519Sign } from './keys.ts';
import { verifySignatureSet, type Ed25519Set } from './signature-sets.ts';

/** Hard ceiling on one encoded transaction; chains may set a lower one in genesis. */
export const MAX_TX_BYTES = 128 * 1024;

/**
 * The signed transaction envelope. `body` is the type's own canonical encoding, so the
 * envelope decodes (and its signature verifies) without knowing the type; the type
 * registry in vm/ decodes the body.
 *
 * Wire form: [chainId, type, sender, nonce, fee, body, signature]
 */
export interface SignedTx {
  readonly chainId: string;
  readonly type: number;
  /** Ed25519 public key of the sender (the address is derived from it). */
  readonly sender: Uint8Array;
  readonly nonce: number;
  /** Fee in micro-units of the settlement currency. */
  readonly fee: bigint;
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
}

/** A decoded tx together with the exact bytes it came from and their hash. */
export interface Tx extends SignedTx {
  readonly bytes: Uint8Array;
  readonly hash: Uint8Array;
  readonly from: Uint8Array; // sender address
}

export type UnsignedTx = Omit<SignedTx, 'signature'>;

export function txSigningBytes(tx: UnsignedTx): Uint8Array {
  return signingBytes(Domain.tx, tx.chainId, [tx.type, tx.sender, tx.nonce, tx.fee, tx.body]);
}

function envelope(tx: SignedTx): Encodable[] {
  return [tx.chainId, tx.type, tx.sender, tx.nonce, tx.fee, tx.body, tx.signature];
}

export function signTx(tx: UnsignedTx, seed: Uint8Array): Tx {
  const signed: SignedTx = { ...tx, signature: ed25519Sign(seed, txSigningBytes(tx)) };
  const bytes = encode(envelope(signed));
  return { ...signed, bytes, hash: sha256(bytes), from: addressFromPublicKey(signed.sender) };
}

/**
 * Decodes an envelope (shape and canonical form only; no signature check, so callers can
 * batch verification). Throws TX_OVERSIZE or CODEC_* errors naming the field.
 */
export function decodeTx(bytes: Uint8Array, maxBytes = MAX_TX_BYTES): Tx {
  if (bytes.length > maxBytes) {
    throw new JouleError(ErrorCode.TX_OVERSIZE, `transaction is ${bytes.length} bytes, limit ${maxBytes}`, 'tx');
  }
  const f = readArray(decode(bytes, 'tx'), 'tx', 7);
  const sender = readBytes(f[2]!, 'tx.sender', ED25519_PUBLIC_KEY_LENGTH);
  const tx: SignedTx = {
    chainId: readString(f[0]!, 'tx.chainId', 64),
    type: readUint(f[1]!, 'tx.type'),
    sender,
    nonce: readUint(f[3]!, 'tx.nonce'),
    fee: readAmount(f[4]!, 'tx.fee'),
    body: readBytes(f[5]!, 'tx.body'),
    signature: readBytes(f[6]!, 'tx.signature', ED25519_SIGNATURE_LENGTH),
  };
  return { ...tx, bytes, hash: sha256(bytes), from: addressFromPublicKey(sender) };
}

/** The envelope's signature as data: the sender's Ed25519 signature over the signing bytes. */
export function txSignatureSet(tx: SignedTx): Ed25519Set {
  return { kind: 'ed25519', publicKey: tx.sender, message: txSigningBytes(tx), signature: tx.signature };
}

export function verifyTxSignature(tx: SignedTx): boolean {
  return verifySignatureSet(txSignatureSet(tx));
}

export function encodeTx(tx: SignedTx): Uint8Array {
  return encode(envelope(tx));
}
