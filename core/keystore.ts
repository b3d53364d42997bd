import { createCipheriv, createDecipheriv, randomBytes, scrypt, scryptSync, type ScryptOptions } from 'node:crypto';
import { fromHexOrUndefined, toHex, utf8 } from './bytes.ts';
import { ErrorCode, JouleError } from './errors.ts';
import { blsFromSecret, ed25519FromSeed, formatAddress, addressFromPublicKey } from './keys.ts';

/**
 * Key files at rest (pure crypto, no file I/O: callers read and write the JSON).
 *
 * Encrypted form: scrypt derives a 32-byte key from the passphrase, AES-256-GCM encrypts
 * the secret. GCM is authenticated, so a wrong passphrase or any edit of the ciphertext
 * is detected instead of yielding a wrong key. The public header (version, type,
 * publicKey) is bound in as additional authenticated data, so swapping the public key
 * shown by `joule keys show` is detected on decryption too.
 *
 * Insecure-devnet form: `"insecure": true, "secret": "0x.."`, plain text, for throwaway
 * devnets only. It is marked in the file and reported (`insecure: true`) on every load.
 */

export type KeyType = 'ed25519' | 'bls';

export interface ScryptParams {
  readonly n: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { n: 2 ** 15, r: 8, p: 1 };

export interface KeystoreCrypto {
  kdf: 'scrypt';
  kdfparams: { n: number; r: number; p: number; salt: string };
  cipher: 'aes-256-gcm';
  iv: string;
  ciphertext: string;
  tag: string;
}

export interface KeystoreJson {
  version: 1;
  type: KeyType;
  publicKey: string;
  address?: string;
  crypto?: KeystoreCrypto;
  insecure?: true;
  warning?: string;
  secret?: string;
}

export interface DecryptedKey {
  readonly type: KeyType;
  /** Ed25519: the 32-byte seed. BLS: the 32-byte secret key. */
  readonly secret: Uint8Array;
  readonly publicKey: Uint8Array;
  /** bech32 address (ed25519 only). */
  readonly address?: string;
  /** True when the file held the secret in plain text (devnet only); callers should warn. */
  readonly insecure: boolean;
}

/** Public part of a key file, readable without the passphrase. */
export interface KeyInfo {
  readonly type: KeyType;
  readonly publicKey: Uint8Array;
  readonly address?: string;
  readonly insecure: boolean;
}

export interface EncryptKeyOptions {
  readonly type: KeyType;
  readonly secret: Uint8Array;
  /** Required unless `insecure` is true. */
  readonly passphrase?: string;
  /** Write the plain-text devnet form. Must be asked for explicitly. */
  readonly insecure?: boolean;
  readonly scrypt?: ScryptParams;
}

export const INSECURE_WARNING = 'INSECURE DEVNET KEY: the secret below is stored unencrypted. Never use it for a real chain.';

const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const SALT_LENGTH = 32;
const SECRET_LENGTH = 32;
// Bounds on kdfparams read from a file, so a hostile file cannot make us allocate gigabytes
// or derive for minutes: scrypt needs 128*n*r bytes and time in proportion to n*r*p.
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;
/** n*r*p at most this: 256 MiB and about 8 times the default's work (geth's "standard" parameters, n=2^18, r=8, p=1). */
const MAX_SCRYPT_WORK = 2 ** 21;

function invalid(message: string, field: string): JouleError {
  return new JouleError(ErrorCode.KEYSTORE_INVALID, message, field);
}

function derivePublic(type: KeyType, secret: Uint8Array): { publicKey: Uint8Array; address?: string } {
  if (type === 'ed25519') {
    const kp = ed25519FromSeed(secret);
    return { publicKey: kp.publicKey, address: formatAddress(addressFromPublicKey(kp.publicKey)) };
  }
  return { publicKey: blsFromSecret(secret).publicKey };
}

function header(type: KeyType, publicKey: Uint8Array, address: string | undefined): KeystoreJson {
  const h: KeystoreJson = { version: 1, type, publicKey: `0x${toHex(publicKey)}` };
  if (address !== undefined) h.address = address;
  return h;
}

/** What GCM authenticates besides the ciphertext: the public header. */
function aad(json: { version: number; type: string; publicKey: string }): Uint8Array {
  return utf8(JSON.stringify([json.version, json.type, json.publicKey.toLowerCase()]));
}

function scryptOptions(p: ScryptParams): ScryptOptions {
  // node's default maxmem (32 MiB) is exactly 128*n*r for n=2^15, r=8, which it rejects.
  return { N: p.n, r: p.r, p: p.p, maxmem: 256 * p.n * p.r + 1024 * 1024 };
}

function checkScrypt(p: ScryptParams, field: string): void {
  if (!Number.isSafeInteger(p.n) || p.n < 2 || p.n > MAX_N || (p.n & (p.n - 1)) !== 0) {
    throw invalid(`n must be a power of two between 2 and ${MAX_N}`, `${field}.n`);
  }
  if (!Number.isSafeInteger(p.r) || p.r < 1 || p.r > MAX_R) throw invalid(`r must be an integer in 1..${MAX_R}`, `${field}.r`);
  if (!Number.isSafeInteger(p.p) || p.p < 1 || p.p > MAX_P) throw invalid(`p must be an integer in 1..${MAX_P}`, `${field}.p`);
  // RFC 7914: n < 2^(128*r/8); scrypt refuses anything else (with a RangeError, not a reason).
  if (p.r < 4 && p.n >= 2 ** (16 * p.r)) throw invalid(`n must be below 2^${16 * p.r} when r is ${p.r} (RFC 7914)`, `${field}.n`);
  if (p.n * p.r * p.p > MAX_SCRYPT_WORK) throw invalid(`n*r*p must be at most 2^21 (n=2^18, r=8, p=1), got ${p.n * p.r * p.p}`, field);
}

/** Runs scrypt; a refusal of its parameters is the key file's problem, said as such (checkScrypt should leave none). */
function deriveSync(passphrase: string, salt: Uint8Array, params: ScryptParams): Buffer {
  try {
    return scryptSync(passphrase, salt, 32, scryptOptions(params));
  } catch (e) {
    throw invalid(`scrypt refused the parameters (${(e as Error).message})`, 'crypto.kdfparams');
  }
}

function derive(passphrase: string, salt: Uint8Array, params: ScryptParams): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const refused = (e: Error) => reject(invalid(`scrypt refused the parameters (${e.message})`, 'crypto.kdfparams'));
    try {
      scrypt(passphrase, salt, 32, scryptOptions(params), (err, key) => (err ? refused(err) : resolve(key)));
    } catch (e) {
      refused(e as Error);
    }
  });
}

/**
 * Shortest passphrase a NEW key file may be encrypted with. Scrypt slows guessing down, it
 * cannot save a one-letter passphrase. (Existing files decrypt whatever they were made with.)
 * Throwaway devnet keys skip encryption altogether with `--insecure`, which says so.
 */
export const MIN_PASSPHRASE_LENGTH = 12;

function checkPassphrase(passphrase: string | undefined): asserts passphrase is string {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new JouleError(ErrorCode.KEYSTORE_BAD_PASSPHRASE, 'a non-empty passphrase is required', 'passphrase');
  }
}

function checkNewPassphrase(passphrase: string | undefined): asserts passphrase is string {
  checkPassphrase(passphrase);
  if ([...passphrase].length < MIN_PASSPHRASE_LENGTH || new Set(passphrase).size < 4) {
    throw new JouleError(
      ErrorCode.KEYSTORE_BAD_PASSPHRASE,
      `too weak: use at least ${MIN_PASSPHRASE_LENGTH} characters, not one character repeated (or --insecure for a throwaway devnet key)`,
      'passphrase',
    );
  }
}

function seal(opts: EncryptKeyOptions, derived: Uint8Array, salt: Uint8Array, params: ScryptParams, base: KeystoreJson): KeystoreJson {
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', derived, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad(base));
  const ciphertext = Buffer.concat([cipher.update(opts.secret), cipher.final()]);
  return {
    ...base,
    crypto: {
      kdf: 'scrypt',
      kdfparams: { n: params.n, r: params.r, p: params.p, salt: `0x${toHex(salt)}` },
      cipher: 'aes-256-gcm',
      iv: `0x${toHex(iv)}`,
      ciphertext: `0x${toHex(ciphertext)}`,
      tag: `0x${toHex(cipher.getAuthTag())}`,
    },
  };
}

/** Shared front half of encryptKey/encryptKeySync: the header, or the finished insecure form. */
function prepare(opts: EncryptKeyOptions): { base: KeystoreJson; done: boolean } {
  if (opts.secret.length !== SECRET_LENGTH) throw invalid(`secret must be ${SECRET_LENGTH} bytes`, 'secret');
  const pub = derivePublic(opts.type, opts.secret);
  const base = header(opts.type, pub.publicKey, pub.address);
  if (opts.insecure === true) {
    return { base: { ...base, insecure: true, warning: INSECURE_WARNING, secret: `0x${toHex(opts.secret)}` }, done: true };
  }
  checkNewPassphrase(opts.passphrase);
  checkScrypt(opts.scrypt ?? DEFAULT_SCRYPT, 'scrypt');
  return { base, done: false };
}

export async function encryptKey(opts: EncryptKeyOptions): Promise<KeystoreJson> {
  const { base, done } = prepare(opts);
  if (done) return base;
  const params = opts.scrypt ?? DEFAULT_SCRYPT;
  const salt = randomBytes(SALT_LENGTH);
  // Async scrypt runs on the libuv pool, so many keys (genesis init) derive in parallel.
  return seal(opts, await derive(opts.passphrase!, salt, params), salt, params, base);
}

export function encryptKeySync(opts: EncryptKeyOptions): KeystoreJson {
  const { base, done } = prepare(opts);
  if (done) return base;
  const params = opts.scrypt ?? DEFAULT_SCRYPT;
  const salt = randomBytes(SALT_LENGTH);
  return seal(opts, deriveSync(opts.passphrase!, salt, params), salt, params, base);
}

// ---------------- reading ----------------

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid('must be an object', field);
  return v as Record<string, unknown>;
}

function hexField(o: Record<string, unknown>, name: string, path: string, length?: number): Uint8Array {
  const v = o[name];
  const b = typeof v === 'string' && v.startsWith('0x') ? fromHexOrUndefined(v) : undefined;
  if (b === undefined) throw invalid('must be a 0x-prefixed hex string', path);
  if (length !== undefined && b.length !== length) throw invalid(`must be ${length} bytes, got ${b.length}`, path);
  return b;
}

function intField(o: Record<string, unknown>, name: string, path: string): number {
  const v = o[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalid('must be an integer', path);
  return v;
}

/** Validates the public header of a key file (no passphrase needed). */
export function readKeyInfo(json: unknown): KeyInfo {
  const o = obj(json, '$');
  if (o.version !== 1) throw invalid('unsupported version (expected 1)', 'version');
  if (o.type !== 'ed25519' && o.type !== 'bls') throw invalid('must be "ed25519" or "bls"', 'type');
  const type = o.type;
  const publicKey = hexField(o, 'publicKey', 'publicKey', type === 'ed25519' ? 32 : 48);
  let address: string | undefined;
  if (type === 'ed25519') {
    address = formatAddress(addressFromPublicKey(publicKey));
    if (o.address !== undefined && o.address !== address) throw invalid('does not match publicKey', 'address');
  } else if (o.address !== undefined) {
    throw invalid('only ed25519 keys have an address', 'address');
  }
  const insecure = o.insecure === true;
  if (o.insecure !== undefined && !insecure) throw invalid('must be true when present', 'insecure');
  if (insecure && o.crypto !== undefined) throw invalid('an insecure key file must not also have crypto', 'crypto');
  if (!insecure && o.crypto === undefined) throw invalid('missing (and the file is not marked insecure)', 'crypto');
  return address === undefined ? { type, publicKey, insecure } : { type, publicKey, address, insecure };
}

interface Parsed {
  info: KeyInfo;
  o: Record<string, unknown>;
  params?: ScryptParams;
  salt?: Uint8Array;
}

function parse(json: unknown): Parsed {
  const info = readKeyInfo(json);
  const o = json as Record<string, unknown>;
  if (info.insecure) return { info, o };
  const c = obj(o.crypto, 'crypto');
  if (c.kdf !== 'scrypt') throw invalid('unsupported kdf (expected "scrypt")', 'crypto.kdf');
  if (c.cipher !== 'aes-256-gcm') throw invalid('unsupported cipher (expected "aes-256-gcm")', 'crypto.cipher');
  const k = obj(c.kdfparams, 'crypto.kdfparams');
  const params = { n: intField(k, 'n', 'crypto.kdfparams.n'), r: intField(k, 'r', 'crypto.kdfparams.r'), p: intField(k, 'p', 'crypto.kdfparams.p') };
  checkScrypt(params, 'crypto.kdfparams');
  const salt = hexField(k, 'salt', 'crypto.kdfparams.salt');
  if (salt.length < 16) throw invalid('must be at least 16 bytes', 'crypto.kdfparams.salt');
  return { info, o, params, salt };
}

/** Checks the secret against the header's public key: a mismatch means a broken file. */
function finish(info: KeyInfo, secret: Uint8Array, field: string): DecryptedKey {
  if (secret.length !== SECRET_LENGTH) throw invalid(`secret must be ${SECRET_LENGTH} bytes`, field);
  let pub: { publicKey: Uint8Array; address?: string };
  try {
    pub = derivePublic(info.type, secret);
  } catch {
    throw invalid(`not a valid ${info.type} secret`, field);
  }
  if (toHex(pub.publicKey) !== toHex(info.publicKey)) throw invalid('secret does not match publicKey', 'publicKey');
  const out = { type: info.type, secret, publicKey: pub.publicKey, insecure: info.insecure };
  return pub.address === undefined ? out : { ...out, address: pub.address };
}

function open(p: Parsed, derived: Uint8Array): DecryptedKey {
  const c = p.o.crypto as Record<string, unknown>;
  const iv = hexField(c, 'iv', 'crypto.iv', IV_LENGTH);
  const ciphertext = hexField(c, 'ciphertext', 'crypto.ciphertext', SECRET_LENGTH);
  const tag = hexField(c, 'tag', 'crypto.tag', TAG_LENGTH);
  const decipher = createDecipheriv('aes-256-gcm', derived, iv, { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad(p.o as { version: number; type: string; publicKey: string }));
  decipher.setAuthTag(tag);
  let secret: Buffer;
  try {
    secret = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    // GCM cannot tell a wrong passphrase from an edited file; say both.
    throw new JouleError(ErrorCode.KEYSTORE_BAD_PASSPHRASE, 'wrong passphrase (or the key file was modified)', 'passphrase');
  }
  return finish(p.info, new Uint8Array(secret), 'crypto.ciphertext');
}

function openInsecure(p: Parsed): DecryptedKey {
  return finish(p.info, hexField(p.o, 'secret', 'secret', SECRET_LENGTH), 'secret');
}

/** Decrypts a key file. The passphrase is ignored (may be undefined) for insecure files. */
export async function decryptKey(json: unknown, passphrase: string | undefined): Promise<DecryptedKey> {
  const p = parse(json);
  if (p.info.insecure) return openInsecure(p);
  checkPassphrase(passphrase);
  return open(p, await derive(passphrase, p.salt!, p.params!));
}

export function decryptKeySync(json: unknown, passphrase: string | undefined): DecryptedKey {
  const p = parse(json);
  if (p.info.insecure) return openInsecure(p);
  checkPassphrase(passphrase);
  return open(p, deriveSync(passphrase, p.salt!, p.params!));
}
