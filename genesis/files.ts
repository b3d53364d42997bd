import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { encryptKey, type KeystoreJson, type ScryptParams } from '../core/keystore.ts';
import type { Devnet } from './devnet.ts';
import { genesisToJson } from './encode.ts';
import type { Genesis } from './types.ts';
import { parseGenesis } from './validate.ts';

/** Reads and validates a genesis file; JouleError GENESIS_INVALID (listing every problem) otherwise. */
export function loadGenesis(file: string): Genesis {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new JouleError(ErrorCode.GENESIS_INVALID, `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'file');
  }
  return parseGenesis(parseJsonText(text, file));
}

/** JSON.parse with an error that says where (line and column), as GENESIS_INVALID. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new JouleError(ErrorCode.GENESIS_INVALID, `${file} is not valid JSON (${(e as Error).message})`, '$');
  }
}

export function genesisFileText(g: Genesis): string {
  return `${JSON.stringify(genesisToJson(g), null, 2)}\n`;
}

export interface DevnetKeyProtection {
  /** Encrypt every key with this passphrase... */
  readonly passphrase?: string;
  /** ...or write insecure plain-text devnet keys (must be asked for). */
  readonly insecure?: boolean;
  readonly scrypt?: ScryptParams;
  /** Called after each key file is written (progress display). */
  readonly onKey?: (file: string, done: number, total: number) => void;
}

export interface DevnetFiles {
  readonly genesisFile: string;
  /** Per validator: its directory and key files. */
  readonly validators: readonly { name: string; dir: string; identityKeyFile: string; consensusKeyFile: string; aggregatorKeyFile?: string }[];
  readonly accounts: readonly { name: string; keyFile: string }[];
  /** DIR/keys/governor-<i>.key, one per governor the devnet names. */
  readonly governors: readonly { name: string; keyFile: string }[];
}

/**
 * Writes DIR/genesis.json, DIR/keys/validator-<i>/{identity,consensus}.key,
 * DIR/keys/account-<j>.key and DIR/keys/governor-<i>.key. Key files are created with mode 0600 and never overwritten
 * (wx), so a second run cannot destroy keys that a chain already depends on.
 */
export async function writeDevnetFiles(dir: string, devnet: Devnet, protection: DevnetKeyProtection): Promise<DevnetFiles> {
  const keysDir = join(dir, 'keys');
  await mkdir(keysDir, { recursive: true });
  const jobs: { file: string; type: 'ed25519' | 'bls'; secret: Uint8Array }[] = [];
  const validators = devnet.validatorKeys.map((v, i) => {
    const vdir = join(keysDir, v.name);
    const identityKeyFile = join(vdir, 'identity.key');
    const consensusKeyFile = join(vdir, 'consensus.key');
    jobs.push({ file: identityKeyFile, type: 'ed25519', secret: v.identity.seed }, { file: consensusKeyFile, type: 'bls', secret: v.consensus.secretKey });
    const aggregator = (devnet.aggregatorKeys ?? [])[i];
    if (aggregator === undefined) return { name: v.name, dir: vdir, identityKeyFile, consensusKeyFile };
    const aggregatorKeyFile = join(vdir, 'aggregator.key');
    jobs.push({ file: aggregatorKeyFile, type: 'ed25519', secret: aggregator.keyPair.seed });
    return { name: v.name, dir: vdir, identityKeyFile, consensusKeyFile, aggregatorKeyFile };
  });
  const accounts = devnet.accountKeys.map((a) => {
    const keyFile = join(keysDir, `${a.name}.key`);
    jobs.push({ file: keyFile, type: 'ed25519', secret: a.keyPair.seed });
    return { name: a.name, keyFile };
  });
  const governors = (devnet.governorKeys ?? []).map((g) => {
    const keyFile = join(keysDir, `${g.name}.key`);
    jobs.push({ file: keyFile, type: 'ed25519', secret: g.keyPair.seed });
    return { name: g.name, keyFile };
  });
  for (const v of validators) await mkdir(v.dir, { recursive: true });

  let done = 0;
  // scrypt runs on the libuv pool: a few keys at a time keeps all cores busy.
  const queue = [...jobs];
  const worker = async (): Promise<void> => {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      const json: KeystoreJson = await encryptKey({
        type: job.type,
        secret: job.secret,
        passphrase: protection.passphrase,
        insecure: protection.insecure,
        scrypt: protection.scrypt,
      });
      await writeFile(job.file, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      protection.onKey?.(job.file, ++done, jobs.length);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const genesisFile = join(dir, 'genesis.json');
  await writeFile(genesisFile, genesisFileText(devnet.genesis), { flag: 'wx' });
  return { genesisFile, validators, accounts, governors };
}
