/**
 * Validator network identity -> libp2p identity. A validator's Ed25519 identity key in
 * genesis IS its libp2p key, so its peer id can be computed from genesis alone and put
 * on the allow-list without any side channel.
 */
import { privateKeyFromRaw, publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id';
import type { PeerId, PrivateKey } from '@libp2p/interface';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { ED25519_PUBLIC_KEY_LENGTH, ed25519FromSeed } from '../core/keys.ts';

/** libp2p private key from the 32-byte Ed25519 seed (libp2p's raw form is seed || public key). */
export function libp2pPrivateKeyFromSeed(seed: Uint8Array): PrivateKey {
  const { publicKey } = ed25519FromSeed(seed); // validates the length, throws KEY_INVALID
  const raw = new Uint8Array(64);
  raw.set(seed, 0);
  raw.set(publicKey, 32);
  return privateKeyFromRaw(raw);
}

/** Peer id (base58 `12D3KooW...`) of a validator or observer from its 32-byte Ed25519 public key. */
export function peerIdFromIdentityKey(publicKey32: Uint8Array): string {
  if (publicKey32.length !== ED25519_PUBLIC_KEY_LENGTH) {
    throw new JouleError(ErrorCode.KEY_INVALID, 'Ed25519 identity key must be 32 bytes', 'publicKey');
  }
  try {
    return peerIdFromPublicKey(publicKeyFromRaw(publicKey32)).toString();
  } catch (e) {
    throw new JouleError(ErrorCode.KEY_INVALID, `not an Ed25519 public key (${(e as Error).message})`, 'publicKey');
  }
}

/** Peer id from the 32-byte Ed25519 seed (what a node computes for itself). */
export function peerIdFromIdentitySeed(seed32: Uint8Array): string {
  return peerIdFromIdentityKey(ed25519FromSeed(seed32).publicKey);
}

/** Parses a peer id string with a typed error naming the field. */
export function parsePeerId(text: string, field = 'peerId'): PeerId {
  try {
    return peerIdFromString(text);
  } catch (e) {
    throw new JouleError(ErrorCode.CONFIG_INVALID, `not a valid peer id (${(e as Error).message})`, field);
  }
}
