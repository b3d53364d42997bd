import { readFileSync } from 'node:fs';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { blsFromSecret, ed25519FromSeed, type BlsKeyPair, type Ed25519KeyPair } from '../../core/keys.ts';
import { decryptKey } from '../../core/keystore.ts';

export interface NodeKeys {
  /** Ed25519: the validator's identity (address, libp2p peer id, consensus message signatures). */
  readonly identity: Ed25519KeyPair;
  /** BLS: commit seals. */
  readonly consensus: BlsKeyPair;
  readonly insecure: boolean;
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

async function readKeyFile(path: string, type: 'ed25519' | 'bls', passphrase: string | undefined) {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new JouleError(ErrorCode.KEYSTORE_INVALID, `cannot read key file ${path} (${(e as Error).message})`, 'keyFile');
  }
  const key = await decryptKey(json, passphrase);
  if (key.type !== type) throw new JouleError(ErrorCode.KEYSTORE_INVALID, `${path} holds a ${key.type} key, expected ${type}`, 'keyFile');
  return key;
}

export async function loadNodeKeys(identityPath: string, consensusPath: string, passphrase: string | undefined): Promise<NodeKeys> {
  const identity = await readKeyFile(identityPath, 'ed25519', passphrase);
  const consensus = await readKeyFile(consensusPath, 'bls', passphrase);
  return {
    identity: ed25519FromSeed(identity.secret),
    consensus: blsFromSecret(consensus.secret),
    insecure: identity.insecure || consensus.insecure,
  };
}
