import { createPrivateKey, createPublicKey, randomBytes, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import * as blst from '@chainsafe/blst';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bech32 } from '@scure/base';
import { ErrorCode, JouleError } from './errors.ts';
import { sha256 } from './hash.ts';

// ---------------- Ed25519 (accounts, validator network identities) ----------------

export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface Ed25519KeyPair {
  readonly seed: Uint8Array; // 32-byte private seed
  readonly publicKey: Uint8Array; // 32 bytes
}

export function ed25519FromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (seed.length !== 32) throw new JouleError(ErrorCode.KEY_INVALID, 'Ed25519 seed must be 32 bytes', 'seed');
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
  return { seed: new Uint8Array(seed), publicKey: new Uint8Array(spki.subarray(SPKI_ED25519_PREFIX.length)) };
}

export function ed25519Generate(): Ed25519KeyPair {
  return ed25519FromSeed(new Uint8Array(randomBytes(32)));
}

const privateKeyCache = new WeakMap<Uint8Array, KeyObject>();

export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  let key = privateKeyCache.get(seed);
  if (key === undefined) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    privateKeyCache.set(seed, key);
  }
  return new Uint8Array(nodeSign(null, message, key));
}

/**
 * Public KeyObjects are cached (bounded) because building one costs about as much as a
 * verify; the same senders sign many transactions.
 */
const PUBLIC_KEY_CACHE_LIMIT = 50_000;
const publicKeyCache = new Map<string, KeyObject>();

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey).toString('latin1');
  let key = publicKeyCache.get(id);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, publicKey]), format: 'der', type: 'spki' });
    if (publicKeyCache.size >= PUBLIC_KEY_CACHE_LIMIT) publicKeyCache.delete(publicKeyCache.keys().next().value!);
    publicKeyCache.set(id, key);
  }
  return key;
}

/** Never throws: malformed keys or signatures verify as false. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH || signature.length !== ED25519_SIGNATURE_LENGTH) return false;
  try {
    return nodeVerify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}

/** A 32-byte string that decodes to a point on the curve (what a real Ed25519 public key is). */
export function isEd25519PublicKey(b: Uint8Array): boolean {
  if (b.length !== ED25519_PUBLIC_KEY_LENGTH) return false;
  try {
    ed25519.Point.fromBytes(b);
    return true;
  } catch {
    return false;
  }
}

// ---------------- addresses ----------------

export const ADDRESS_LENGTH = 20;
export const ADDRESS_HRP = 'joule';

/** An account's address: the first 20 bytes of SHA-256 of its Ed25519 public key. */
export function addressFromPublicKey(publicKey: Uint8Array): Uint8Array {
  return sha256(publicKey).subarray(0, ADDRESS_LENGTH);
}

/** Human form: bech32 with prefix `joule`, whose checksum rejects typos. */
export function formatAddress(address: Uint8Array): string {
  return address.length === ADDRESS_LENGTH ? addressBech32(address) : bech32.encode(ADDRESS_HRP, bech32.toWords(address));
}

// bech32 (BIP-173) written out for a 20-byte address: the same text as @scure/base's
// encode (core/keys.test.ts compares them), at a fraction of its cost; a market's
// clearing names every order's owner in its trades' events.
const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

function polymodStep(chk: number, value: number): number {
  const top = chk >>> 25;
  return (
    ((chk & 0x1ffffff) << 5) ^
    value ^
    (-(top & 1) & 0x3b6a57b2) ^
    (-((top >>> 1) & 1) & 0x26508e6d) ^
    (-((top >>> 2) & 1) & 0x1ea119fa) ^
    (-((top >>> 3) & 1) & 0x3d4233dd) ^
    (-((top >>> 4) & 1) & 0x2a1462b3)
  );
}

/** The checksum's state after the prefix (its expansion: high bits, a zero, low bits). */
const HRP_CHECKSUM = (() => {
  let chk = 1;
  for (let i = 0; i < ADDRESS_HRP.length; i++) chk = polymodStep(chk, ADDRESS_HRP.charCodeAt(i) >>> 5);
  chk = polymodStep(chk, 0);
  for (let i = 0; i < ADDRESS_HRP.length; i++) chk = polymodStep(chk, ADDRESS_HRP.charCodeAt(i) & 31);
  return chk;
})();

/** The text's character codes, reused: one string made at the end, not one per character. */
const bech32Codes = new Array<number>(ADDRESS_HRP.length + 1 + 32 + 6);
for (let i = 0; i < ADDRESS_HRP.length; i++) bech32Codes[i] = ADDRESS_HRP.charCodeAt(i);
bech32Codes[ADDRESS_HRP.length] = 0x31; // '1'

function addressBech32(address: Uint8Array): string {
  let chk = HRP_CHECKSUM;
  let at = ADDRESS_HRP.length + 1;
  let acc = 0;
  let bits = 0;
  // 20 bytes are exactly 32 five-bit words: no padding.
  for (let i = 0; i < address.length; i++) {
    acc = ((acc << 8) | address[i]!) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      const word = (acc >>> bits) & 31;
      chk = polymodStep(chk, word);
      bech32Codes[at++] = BECH32_CHARSET.charCodeAt(word);
    }
  }
  for (let i = 0; i < 6; i++) chk = polymodStep(chk, 0);
  chk ^= 1;
  for (let i = 0; i < 6; i++) bech32Codes[at++] = BECH32_CHARSET.charCodeAt((chk >>> (5 * (5 - i))) & 31);
  return String.fromCharCode.apply(null, bech32Codes);
}

export function parseAddress(text: string, field = 'address'): Uint8Array {
  try {
    const { prefix, words } = bech32.decode(text as `${string}1${string}`);
    if (prefix !== ADDRESS_HRP) throw new Error(`prefix must be ${ADDRESS_HRP}`);
    const bytes = bech32.fromWords(words);
    if (bytes.length !== ADDRESS_LENGTH) throw new Error(`must be ${ADDRESS_LENGTH} bytes`);
    return new Uint8Array(bytes);
  } catch (e) {
    throw new JouleError(ErrorCode.ADDRESS_INVALID, `not a valid joule address (${(e as Error).message})`, field);
  }
}

// ---------------- BLS12-381 (consensus votes, device readings) ----------------
// Ethereum ciphersuite (min-pk: keys in G1, signatures in G2, proof-of-possession DST).
// Joule's domain separation is in the message (see domain.ts), not in a custom DST, so
// any standard implementation (blst, noble) can verify.

export const BLS_PUBLIC_KEY_LENGTH = 48;
export const BLS_SIGNATURE_LENGTH = 96;

export interface BlsKeyPair {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function blsFromSecret(secretKey: Uint8Array): BlsKeyPair {
  try {
    const sk = blst.SecretKey.fromBytes(secretKey);
    return { secretKey: new Uint8Array(secretKey), publicKey: sk.toPublicKey().toBytes(true) };
  } catch (e) {
    throw new JouleError(ErrorCode.KEY_INVALID, `invalid BLS secret key (${(e as Error).message})`, 'secretKey');
  }
}

export function blsGenerate(): BlsKeyPair {
  const sk = blst.SecretKey.fromKeygen(randomBytes(32));
  return { secretKey: sk.toBytes(), publicKey: sk.toPublicKey().toBytes(true) };
}

const blsSecretCache = new WeakMap<Uint8Array, blst.SecretKey>();

export function blsSign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  let sk = blsSecretCache.get(secretKey);
  if (sk === undefined) {
    sk = blst.SecretKey.fromBytes(secretKey);
    blsSecretCache.set(secretKey, sk);
  }
  return sk.sign(message).toBytes(true);
}

/**
 * Valid keys already parsed, by their bytes. Parsing with the subgroup check costs about a
 * fifth of what verifying one message of an aggregate does, and the same keys come back
 * (each device signs a reading every few seconds; validators seal every block), so a
 * bounded cache per thread (oldest out first) saves it. Only valid keys are kept.
 */
const BLS_KEY_CACHE_SIZE = 32_768;
const blsKeyCache = new Map<string, blst.PublicKey>();

/** Parses and subgroup-checks a public key; undefined when invalid. */
export function blsPublicKey(bytes: Uint8Array): blst.PublicKey | undefined {
  if (bytes.length !== BLS_PUBLIC_KEY_LENGTH) return undefined;
  const id = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const cached = blsKeyCache.get(id);
  if (cached !== undefined) return cached;
  let pk: blst.PublicKey;
  try {
    pk = blst.PublicKey.fromBytes(bytes, true);
  } catch {
    return undefined;
  }
  if (blsKeyCache.size >= BLS_KEY_CACHE_SIZE) blsKeyCache.delete(blsKeyCache.keys().next().value!);
  blsKeyCache.set(id, pk);
  return pk;
}

/** Parses and subgroup-checks a signature; undefined when invalid. */
export function blsSignature(bytes: Uint8Array): blst.Signature | undefined {
  if (bytes.length !== BLS_SIGNATURE_LENGTH) return undefined;
  try {
    return blst.Signature.fromBytes(bytes, true);
  } catch {
    return undefined;
  }
}

/** Never throws: malformed keys or signatures verify as false. */
export function blsVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const pk = blsPublicKey(publicKey);
  const sig = blsSignature(signature);
  if (pk === undefined || sig === undefined) return false;
  try {
    return blst.verify(message, pk, sig);
  } catch {
    return false;
  }
}

export function blsAggregateSignatures(signatures: readonly Uint8Array[]): Uint8Array {
  const sigs = signatures.map((s, i) => {
    const sig = blsSignature(s);
    if (sig === undefined) throw new JouleError(ErrorCode.KEY_INVALID, 'invalid BLS signature', `signatures[${i}]`);
    return sig;
  });
  return blst.aggregateSignatures(sigs, false).toBytes(true);
}

/**
 * Signatures added up, each decoded without its subgroup check (a fifth of a verification's
 * cost saved per signature): only for a sum that is checked as a whole, as a telemetry
 * batch's aggregate is (with the subgroup check of the sum). Throws KEY_INVALID for bytes
 * that are no point.
 */
export function blsAddSignatures(signatures: readonly Uint8Array[]): Uint8Array {
  try {
    return blst
      .aggregateSignatures(
        signatures.map((s) => blst.Signature.fromBytes(s, false)),
        false,
      )
      .toBytes(true);
  } catch (e) {
    throw new JouleError(ErrorCode.KEY_INVALID, `a signature is not a point (${(e as Error).message})`, 'signatures');
  }
}

/** Many signers, one message (commit certificates): one pairing check. */
export function blsFastAggregateVerify(message: Uint8Array, publicKeys: readonly Uint8Array[], signature: Uint8Array): boolean {
  if (publicKeys.length === 0) return false;
  const sig = blsSignature(signature);
  if (sig === undefined) return false;
  const pks: blst.PublicKey[] = [];
  for (const b of publicKeys) {
    const pk = blsPublicKey(b);
    if (pk === undefined) return false;
    pks.push(pk);
  }
  try {
    return blst.fastAggregateVerify(message, pks, sig);
  } catch {
    return false;
  }
}

/** Many signers, distinct messages (telemetry batches). */
export function blsAggregateVerify(messages: readonly Uint8Array[], publicKeys: readonly Uint8Array[], signature: Uint8Array): boolean {
  if (messages.length === 0 || messages.length !== publicKeys.length) return false;
  const sig = blsSignature(signature);
  if (sig === undefined) return false;
  const pks: blst.PublicKey[] = [];
  for (const b of publicKeys) {
    const pk = blsPublicKey(b);
    if (pk === undefined) return false;
    pks.push(pk);
  }
  try {
    return blst.aggregateVerify([...messages], pks, sig);
  } catch {
    return false;
  }
}
