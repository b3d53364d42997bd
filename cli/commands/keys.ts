import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Option, type Command } from 'commander';
import { toHex } from '../../core/bytes.ts';
import { isJouleError } from '../../core/errors.ts';
import { blsGenerate, ed25519Generate } from '../../core/keys.ts';
import { decryptKey, encryptKey, readKeyInfo, type DecryptedKey, type KeyInfo, type KeystoreJson, type KeyType } from '../../core/keystore.ts';
import { keyFileExposure } from '../../node/home/keys.ts';
import { startProgress } from '../progress.ts';
import { CliError } from '../rpc-client.ts';

/**
 * `joule keys generate|show`, plus the passphrase and key-file helpers every command that
 * signs uses (so they all resolve passphrases and warn about insecure keys the same way).
 */

export const PASSPHRASE_ENV = 'JOULE_PASSPHRASE';

export function passphraseFileOption(): Option {
  return new Option('--passphrase-file <file>', `file holding the key passphrase (else env ${PASSPHRASE_ENV})`);
}

/** The passphrase from --passphrase-file (one trailing newline stripped) or env; undefined if neither. */
export function readPassphrase(file: string | undefined): string | undefined {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new CliError('PASSPHRASE_FILE', `cannot read passphrase file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const pass = text.replace(/\r?\n$/, '');
    if (pass.length === 0) throw new CliError('KEYSTORE_BAD_PASSPHRASE', `passphrase file ${file} is empty`);
    return pass;
  }
  const env = process.env[PASSPHRASE_ENV];
  return env === undefined || env === '' ? undefined : env;
}

/** Folders already warned about: a simulator loading a devnet's many keys warns once per folder. */
const warnedFolders = new Set<string>();

export function warnInsecure(file: string): void {
  const folder = dirname(file);
  if (warnedFolders.has(folder)) return;
  warnedFolders.add(folder);
  process.stderr.write(`warning: ${file} is an INSECURE devnet key (stored unencrypted); never use it on a real chain\n`);
}

function readKeyJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError('KEY_FILE', `cannot read key file ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError('KEYSTORE_INVALID', `${file} is not a key file (not JSON: ${(e as Error).message})`);
  }
}

/** Prefixes keystore errors with the file they came from. */
function withFile<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (isJouleError(e)) throw new CliError(e.code, `${file}: ${e.message}`, e.field);
    throw e;
  }
}

export function readKeyFileInfo(file: string): KeyInfo {
  const json = readKeyJson(file);
  return withFile(file, () => readKeyInfo(json));
}

/** Reads and decrypts a key file (warning on stderr if it is an insecure devnet key). */
export async function loadKey(file: string, passphraseFile: string | undefined, expected?: KeyType): Promise<DecryptedKey> {
  const json = readKeyJson(file);
  const info = withFile(file, () => readKeyInfo(json));
  if (expected !== undefined && info.type !== expected) {
    throw new CliError('KEY_WRONG_TYPE', `${file} holds a ${info.type} key; this command needs an ${expected} key`);
  }
  const exposed = keyFileExposure(file);
  if (exposed !== undefined && !info.insecure) process.stderr.write(`warning: ${file}: ${exposed}\n`);
  let passphrase: string | undefined;
  if (info.insecure) warnInsecure(file);
  else {
    passphrase = readPassphrase(passphraseFile);
    if (passphrase === undefined) {
      throw new CliError('KEYSTORE_BAD_PASSPHRASE', `${file} is encrypted: give --passphrase-file FILE or set ${PASSPHRASE_ENV}`);
    }
  }
  try {
    return await decryptKey(json, passphrase);
  } catch (e) {
    if (isJouleError(e)) throw new CliError(e.code, `${file}: ${e.message}`, e.field);
    throw e;
  }
}

function keyInfoJson(file: string, info: KeyInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { file, type: info.type, publicKey: `0x${toHex(info.publicKey)}` };
  if (info.address !== undefined) out.address = info.address;
  out.encrypted = !info.insecure;
  return out;
}

function printKeyInfo(file: string, info: KeyInfo, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(keyInfoJson(file, info))}\n`);
    return;
  }
  const lines = [
    `file        ${file}`,
    `type        ${info.type}`,
    `public key  0x${toHex(info.publicKey)}`,
    ...(info.address !== undefined ? [`address     ${info.address}`] : []),
    `encrypted   ${info.insecure ? 'NO (insecure devnet key)' : 'yes (scrypt + aes-256-gcm)'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Creates the file exclusively with mode 0600: an existing key is never overwritten. */
export function writeNewKeyFile(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, content, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CliError('FILE_EXISTS', `${file} already exists; refusing to overwrite a key file (remove it or choose another --out)`);
    }
    throw new CliError('FILE_WRITE', `cannot write ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

interface GenerateOptions {
  type: KeyType;
  out: string;
  passphraseFile?: string;
  insecure?: boolean;
  json?: boolean;
}

async function generate(opts: GenerateOptions): Promise<void> {
  const passphrase = opts.insecure === true ? undefined : readPassphrase(opts.passphraseFile);
  if (opts.insecure === true && opts.passphraseFile !== undefined) {
    throw new CliError('INVALID_PARAMS', 'give either --passphrase-file (encrypted key) or --insecure (unencrypted devnet key), not both');
  }
  if (opts.insecure !== true && passphrase === undefined) {
    throw new CliError(
      'KEYSTORE_BAD_PASSPHRASE',
      `refusing to write an unencrypted key: give --passphrase-file FILE or set ${PASSPHRASE_ENV} (or --insecure for a throwaway devnet key)`,
    );
  }
  const secret = opts.type === 'ed25519' ? ed25519Generate().seed : blsGenerate().secretKey;
  let json: KeystoreJson;
  if (opts.insecure === true) {
    process.stderr.write('warning: --insecure: writing an UNENCRYPTED devnet key; anyone who can read the file controls the key\n');
    json = await encryptKey({ type: opts.type, secret, insecure: true });
  } else {
    const progress = startProgress('encrypting key (scrypt)');
    json = await encryptKey({ type: opts.type, secret, passphrase });
    progress.succeed('key encrypted');
  }
  writeNewKeyFile(opts.out, `${JSON.stringify(json, null, 2)}\n`);
  printKeyInfo(opts.out, readKeyInfo(json), opts.json === true);
}

/** Returns the `keys` group, so that `keys init` (keys-init.ts) joins it. */
export function registerKeysCommands(program: Command): Command {
  const keys = program.command('keys').description('create and inspect key files (encrypted at rest)');

  keys
    .command('generate')
    .description('generate a new key and write it to an encrypted key file')
    .addOption(
      new Option('--type <type>', 'ed25519 (accounts, validator identity) or bls (validator consensus, devices)')
        .choices(['ed25519', 'bls'])
        .makeOptionMandatory(),
    )
    .requiredOption('--out <file>', 'where to write the key file (never overwritten)')
    .addOption(passphraseFileOption())
    .option('--insecure', 'write the secret UNENCRYPTED (throwaway devnet keys only)')
    .option('--json', 'print the result as one JSON object')
    .action(async (opts: GenerateOptions) => generate(opts));

  keys
    .command('show')
    .description('show the public key and address of a key file (never the secret; no passphrase needed)')
    .argument('<file>', 'key file')
    .option('--json', 'print one JSON object')
    .action((file: string, opts: { json?: boolean }) => {
      const info = readKeyFileInfo(file);
      if (info.insecure) warnInsecure(file);
      printKeyInfo(file, info, opts.json === true);
    });
  return keys;
}
