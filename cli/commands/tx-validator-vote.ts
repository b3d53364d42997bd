import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { fromHexOrUndefined, toHex } from '../../core/bytes.ts';
import { addressFromPublicKey, formatAddress } from '../../core/keys.ts';
import { signProofOfPossession, verifyProofOfPossession } from '../../core/pop.ts';
import { buildValidatorVote } from '../../core/tx/validator-vote.ts';
import { VALIDATOR_NAME_PATTERN } from '../../core/validators.ts';
import { isJouleError } from '../../core/errors.ts';
import { readCardFile, type ValidatorCard } from '../../node/home/card.ts';
import { CliError, type RpcClient } from '../rpc-client.ts';
import { loadKey, readKeyFileInfo } from './keys.ts';
import { parseAmount, senderContext, submitTx, withSenderOptions, type SenderOptions, type SubmitOptions } from './sender.ts';

/**
 * `joule tx validator-vote --add|--remove ...`: a current validator's vote (signed with its
 * identity key, `--key`) to add or remove one validator. The change applies once
 * floor(n/2)+1 of the current validators voted the same proposal.
 *
 * The candidate's keys come from its card, `--card FILE` (`joule card export`: public keys,
 * proof of possession, name; checked here against the node's chain id), from
 * `--candidate-keys DIR` (a node home or its keys/ folder
 * holding identity.key and consensus.key: public keys are read without a passphrase) or
 * from `--identity-key` / `--bls-key` hex. An add also needs the candidate's proof of
 * possession, which only the holder of the BLS secret can make: `--pop HEX` (made by the
 * candidate's operator with `joule tx make-pop`), or it is computed here
 * from DIR/consensus.key (decrypted with `--candidate-passphrase-file`). A remove can
 * simply name the member: `--remove --validator NAME|ADDRESS` looks its keys up on the node.
 */

interface VoteOptions extends SenderOptions, SubmitOptions {
  add?: boolean;
  remove?: boolean;
  name?: string;
  validator?: string;
  card?: string;
  candidateKeys?: string;
  candidatePassphraseFile?: string;
  identityKey?: string;
  blsKey?: string;
  pop?: string;
  fee: string;
}

interface Candidate {
  name: string;
  identityKey: Uint8Array;
  blsKey: Uint8Array;
  pop?: Uint8Array;
}

interface ValidatorsJson {
  validators: { name: string; address: string; identityKey: string; blsKey: string }[];
}

function hexOption(v: string, flag: string, length: number): Uint8Array {
  const b = fromHexOrUndefined(v);
  if (b === undefined || b.length !== length)
    throw new CliError('INVALID_PARAMS', `--${flag} must be ${length} bytes of 0x-prefixed hex, got ${JSON.stringify(v)}`, flag);
  return b;
}

/** identity.key and consensus.key in DIR, or in DIR/keys (a node home). */
function keyFiles(dir: string): { identity: string; consensus: string } {
  const base = existsSync(join(dir, 'keys', 'identity.key')) ? join(dir, 'keys') : dir;
  const files = { identity: join(base, 'identity.key'), consensus: join(base, 'consensus.key') };
  for (const f of Object.values(files)) if (!existsSync(f)) throw new CliError('KEY_FILE', `--candidate-keys: ${f} does not exist`, 'candidate-keys');
  return files;
}

function requireName(name: string | undefined): string {
  if (name === undefined) throw new CliError('INVALID_PARAMS', "--name is required (the validator's name in the set)", 'name');
  if (!VALIDATOR_NAME_PATTERN.test(name))
    throw new CliError('INVALID_PARAMS', `--name must be 1-64 letters, digits, ".", "_" or "-", got ${JSON.stringify(name)}`, 'name');
  return name;
}

/** The candidate from its card: keys, proof of possession and name, all checked for this chain. */
function candidateFromCard(opts: VoteOptions, chainId: string, add: boolean): Candidate {
  if (opts.candidateKeys !== undefined || opts.identityKey !== undefined || opts.blsKey !== undefined || opts.pop !== undefined) {
    throw new CliError(
      'INVALID_PARAMS',
      "--card holds the candidate's keys and proof of possession: do not combine it with --candidate-keys, --identity-key, --bls-key or --pop",
      'card',
    );
  }
  let card: ValidatorCard;
  try {
    card = readCardFile(opts.card!);
  } catch (e) {
    if (isJouleError(e)) throw new CliError(e.code, `--card ${e.message}`, 'card');
    throw e;
  }
  if (card.chainId !== chainId)
    throw new CliError(
      'CARD_INVALID',
      `--card ${opts.card} is for chain ${JSON.stringify(card.chainId)}, but the node runs ${JSON.stringify(chainId)}`,
      'card',
    );
  if (opts.name !== undefined && opts.name !== card.name)
    throw new CliError('INVALID_PARAMS', `--name ${JSON.stringify(opts.name)} differs from the card's name ${JSON.stringify(card.name)}`, 'name');
  return { name: card.name, identityKey: card.identityKey, blsKey: card.blsKey, ...(add ? { pop: card.blsProofOfPossession } : {}) };
}

/** The candidate's public keys (and, for an add, its PoP) from the options. */
async function candidateFromOptions(opts: VoteOptions, chainId: string, add: boolean): Promise<Candidate> {
  if (opts.card !== undefined) return candidateFromCard(opts, chainId, add);
  const name = requireName(opts.name);
  let identityKey: Uint8Array;
  let blsKey: Uint8Array;
  let files: { identity: string; consensus: string } | undefined;
  if (opts.candidateKeys !== undefined) {
    files = keyFiles(opts.candidateKeys);
    const id = readKeyFileInfo(files.identity);
    const bls = readKeyFileInfo(files.consensus);
    if (id.type !== 'ed25519' || bls.type !== 'bls')
      throw new CliError('KEY_WRONG_TYPE', 'identity.key must be an ed25519 key and consensus.key a bls key', 'candidate-keys');
    identityKey = id.publicKey;
    blsKey = bls.publicKey;
  } else {
    if (opts.identityKey === undefined || opts.blsKey === undefined) {
      throw new CliError('INVALID_PARAMS', "give the candidate's keys: --candidate-keys DIR, or --identity-key HEX and --bls-key HEX", 'candidate-keys');
    }
    identityKey = hexOption(opts.identityKey, 'identity-key', 32);
    blsKey = hexOption(opts.blsKey, 'bls-key', 48);
  }
  if (!add) return { name, identityKey, blsKey };
  let pop: Uint8Array;
  if (opts.pop !== undefined) pop = hexOption(opts.pop, 'pop', 96);
  else if (files !== undefined) {
    const secret = await loadKey(files.consensus, opts.candidatePassphraseFile, 'bls');
    pop = signProofOfPossession(chainId, secret.secret, blsKey, identityKey);
  } else
    throw new CliError(
      'INVALID_PARAMS',
      "an add needs the candidate's proof of possession: --pop HEX, or --candidate-keys DIR with a decryptable consensus.key",
      'pop',
    );
  // Checked here too, so a wrong proof fails before anything is signed or sent.
  if (!verifyProofOfPossession(chainId, blsKey, identityKey, pop)) {
    throw new CliError('TX_BAD_SIGNATURE', `the proof of possession does not verify for chain ${JSON.stringify(chainId)} and these keys`, 'pop');
  }
  return { name, identityKey, blsKey, pop };
}

/** `--remove --validator NAME|ADDRESS`: the member's keys as the node reports the current set. */
async function memberFromNode(client: RpcClient, which: string): Promise<Candidate> {
  const set = await client.call<ValidatorsJson | null>('joule_getValidators', []);
  const v = set?.validators.find((x) => x.name === which || x.address === which);
  if (v === undefined) throw new CliError('NOT_FOUND', `no current validator named or at ${JSON.stringify(which)} (see: joule query validators)`, 'validator');
  return { name: v.name, identityKey: hexOption(v.identityKey, 'identity-key', 32), blsKey: hexOption(v.blsKey, 'bls-key', 48) };
}

async function validatorVote(opts: VoteOptions): Promise<void> {
  if (opts.add === opts.remove) throw new CliError('INVALID_PARAMS', 'give exactly one of --add or --remove', 'add');
  const add = opts.add === true;
  const fee = parseAmount(opts.fee, 'fee', true);
  const ctx = await senderContext(opts);
  const c = !add && opts.validator !== undefined ? await memberFromNode(ctx.client, opts.validator) : await candidateFromOptions(opts, ctx.chainId, add);
  const address = formatAddress(addressFromPublicKey(c.identityKey));
  const validator = { name: c.name, identityKey: c.identityKey, blsKey: c.blsKey, ...(c.pop !== undefined ? { blsProofOfPossession: c.pop } : {}) };
  const signed = buildValidatorVote({ chainId: ctx.chainId, seed: ctx.seed, nonce: ctx.nonce, fee, action: add ? 'add' : 'remove', validator });
  await submitTx(ctx.client, signed, opts, { from: ctx.address, action: add ? 'add' : 'remove', name: c.name, address, fee: fee.toString(), nonce: ctx.nonce });
}

/** `tx make-pop`: the candidate's operator makes its proof (needs only the candidate's keys and the chain id). */
async function printPop(opts: VoteOptions & { chainId?: string }): Promise<void> {
  if (opts.candidateKeys === undefined || opts.chainId === undefined) {
    throw new CliError('INVALID_PARAMS', 'make-pop needs --candidate-keys DIR and --chain-id ID', 'candidate-keys');
  }
  const c = await candidateFromOptions({ ...opts, name: opts.name ?? 'candidate' }, opts.chainId, true);
  process.stdout.write(
    `${JSON.stringify({ chainId: opts.chainId, address: formatAddress(addressFromPublicKey(c.identityKey)), identityKey: `0x${toHex(c.identityKey)}`, blsKey: `0x${toHex(c.blsKey)}`, pop: `0x${toHex(c.pop!)}` })}\n`,
  );
}

export function registerValidatorVoteCommand(tx: Command): void {
  withSenderOptions(
    tx
      .command('validator-vote')
      .description('vote, as a current validator, to add or remove a validator (applies at floor(n/2)+1 votes)')
      .option('--add', 'add the candidate')
      .option('--remove', 'remove a current validator')
      .option('--name <name>', "the validator's name in the set")
      .option('--validator <nameOrAddress>', 'with --remove: the member to remove, keys looked up on the node')
      .option('--card <file>', "the candidate's validator card (`joule card export`): keys, proof of possession and name")
      .option('--candidate-keys <dir>', "directory (or node home) with the candidate's identity.key and consensus.key")
      .option('--candidate-passphrase-file <file>', 'passphrase of an encrypted candidate consensus.key (to compute the proof of possession)')
      .option('--identity-key <hex>', "the candidate's Ed25519 identity public key (32 bytes)")
      .option('--bls-key <hex>', "the candidate's BLS public key (48 bytes)")
      .option('--pop <hex>', "the candidate's BLS proof of possession (96 bytes; see `joule tx make-pop`)"),
    '25',
  ).action(validatorVote);

  tx.command('make-pop')
    .description("print a candidate validator's BLS proof of possession (run by the candidate's operator; signs nothing else, sends nothing)")
    .requiredOption('--candidate-keys <dir>', 'directory (or node home) with identity.key and consensus.key')
    .option('--candidate-passphrase-file <file>', 'passphrase of an encrypted consensus.key')
    .requiredOption('--chain-id <id>', 'the chain the proof is for')
    .action(printPop);
}
