import { readFileSync, statSync } from 'node:fs';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { blsFromSecret, ed25519FromSeed, type BlsKeyPair, type Ed25519KeyPair } from '../../core/keys.ts';
import { decryptKey, type DecryptedKey, type KeyType } from '../../core/keystore.ts';

/**
 * Why a key file is exposed to other users of the machine (group or others may read or
 * write it), or undefined when only its owner can. Secrets are written 0600; anything looser
 * means someone copied or restored the file carelessly.
 */
export function keyFileExposure(path: string): string | undefined {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    return undefined; // reading it will say what is wrong
  }
  if ((mode & 0o077) === 0) return undefined;
  return `mode ${mode.toString(8).padStart(4, '0')} lets ${mode & 0o070 ? 'its group' : ''}${mode & 0o070 && mode & 0o007 ? ' and ' : ''}${mode & 0o007 ? 'other users' : ''} read or change it (fix: chmod 600 ${path})`;
}

export interface NodeKeys {
  /** Ed25519: the validator's identity (address, libp2p peer id, consensus message signatures). */
  readonly identity: Ed25519KeyPair;
  /** BLS: commit seals. */
  readonly consensus: BlsKeyPair;
  readonly insecure: boolean;
  /** Key files other users can read (warn; a validator refuses unless they are insecure devnet keys). */
  readonly exposed: readonly string[];
}

/** The passphrase: `--passphrase-file` wins over `JOULE_PASSPHRASE`; insecure devnet keys need none. */
export function readPassphrase(passphraseFile: string | undefined): string | undefined {
  if (passphraseFile !== undefined) {
    try {
      return readFileSync(passphraseFile, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new JouleError(ErrorCode.CONFIG_INVALID, `cannot read passphrase file (${(e as Error).message})`, 'passphraseFile');
    }
  }
  return process.env.JOULE_PASSPHRASE;
}

async function readKeyFile(path: string, type: KeyType, passphrase: string | undefined) {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new JouleError(ErrorCode.KEYSTORE_INVALID, `cannot read key file ${path} (${(e as Error).message})`, 'keyFile');
  }
  return parseKeyFile(text, path, type, passphrase);
}

/** A key file's text (read from `path`) as the key of `type` it must hold; KEYSTORE_* errors otherwise. */
export async function parseKeyFile(text: string, path: string, type: KeyType, passphrase: string | undefined): Promise<DecryptedKey> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new JouleError(ErrorCode.KEYSTORE_INVALID, `cannot read key file ${path} (${(e as Error).message})`, 'keyFile');
  }
  const key = await decryptKey(json, passphrase);
  if (key.type !== type) throw new JouleError(ErrorCode.KEYSTORE_INVALID, `${path} holds a ${key.type} key, expected ${type}`, 'keyFile');
  return key;
}

/**
 * Loads a node's keys. A validator's keys sign blocks: if another user of the machine can
 * read them, the node refuses to start (typed KEYSTORE_EXPOSED naming the file) unless they
 * are insecure devnet keys, which are public by design; an observer only warns.
 */
export async function loadNodeKeys(
  identityPath: string,
  consensusPath: string,
  passphrase: string | undefined,
  opts: { readonly validator: boolean },
): Promise<NodeKeys> {
  const identity = await readKeyFile(identityPath, 'ed25519', passphrase);
  const consensus = await readKeyFile(consensusPath, 'bls', passphrase);
  const insecure = identity.insecure || consensus.insecure;
  const exposed: string[] = [];
  for (const path of [identityPath, consensusPath]) {
    const why = keyFileExposure(path);
    if (why === undefined) continue;
    if (opts.validator && !insecure)
      throw new JouleError(ErrorCode.KEYSTORE_EXPOSED, `${path}: ${why}; a validator's keys must be readable by its owner only`, 'keyFile');
    exposed.push(`${path}: ${why}`);
  }
  return { identity: ed25519FromSeed(identity.secret), consensus: blsFromSecret(consensus.secret), insecure, exposed };
}
