import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { toHex } from '../../core/bytes.ts';
import { assembleGenesis, genesisHash, type AssembleValidator, type Assembled, type GenesisProblem } from '../../genesis/index.ts';
import { checkCard, readCardJson } from '../../node/home/card.ts';
import { amountOption, timeArg } from '../args.ts';
import { CliError } from '../rpc-client.ts';

/**
 * `joule genesis assemble`: the coordinator's step of the genesis ceremony. The genesis is
 * built from the validators' cards, the chain parameters and the funded accounts, and
 * checked by the rules every node applies. The output depends on the content only (cards
 * in any order give the same file and hash), so any operator can re-run it from the same
 * public inputs and compare.
 */

/** 1,000 units: a validator's account pays for its votes from it. */
export const DEFAULT_VALIDATOR_BALANCE = 1_000_000_000n;

interface AssembleOptions {
  cards: string[];
  chainId: string;
  params?: string;
  accounts?: string;
  genesisTime?: number;
  validatorBalance: bigint;
  out: string;
  json?: boolean;
}

function readJsonFile(file: string, flag: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError('GENESIS_INVALID', `${flag} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, flag.slice(2));
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError('GENESIS_INVALID', `${flag} ${file} is not valid JSON (${(e as Error).message})`, flag.slice(2));
  }
}

function listProblems(problems: readonly GenesisProblem[]): string {
  return problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
}

/** Every card checked; all problems of all cards reported at once. */
function readCards(files: readonly string[]): AssembleValidator[] {
  const problems: GenesisProblem[] = [];
  const out: AssembleValidator[] = [];
  for (const file of files) {
    let json: unknown;
    try {
      json = readCardJson(file);
    } catch (e) {
      problems.push({ path: file, message: (e as Error).message });
      continue;
    }
    const { problems: mine, card } = checkCard(json);
    for (const p of mine) problems.push({ path: `${file}: ${p.path}`, message: p.message });
    if (card !== undefined) out.push({ source: file, chainId: card.chainId, validator: card.validator });
  }
  if (problems.length > 0)
    throw new CliError('CARD_INVALID', `${problems.length} problem${problems.length === 1 ? '' : 's'} in the cards:\n${listProblems(problems)}`, 'cards');
  return out;
}

async function assemble(opts: AssembleOptions): Promise<void> {
  const validators = readCards(opts.cards);
  const params = opts.params === undefined ? undefined : readJsonFile(opts.params, '--params');
  const accounts = opts.accounts === undefined ? undefined : readJsonFile(opts.accounts, '--accounts');
  let assembled: Assembled;
  try {
    assembled = assembleGenesis({
      chainId: opts.chainId,
      genesisTime: opts.genesisTime ?? Date.now(),
      params,
      ...(opts.params !== undefined ? { paramsSource: opts.params } : {}),
      validators,
      accounts,
      ...(opts.accounts !== undefined ? { accountsSource: opts.accounts } : {}),
      validatorBalance: opts.validatorBalance,
    });
  } catch (e) {
    const problems = (e as { problems?: GenesisProblem[] }).problems;
    if (problems === undefined) throw e;
    const named = problems.map((p) => ({ path: p.path.replace(/^chainId$/, '--chain-id').replace(/^genesisTime$/, '--genesis-time'), message: p.message }));
    throw new CliError(
      'GENESIS_INVALID',
      `cannot assemble the genesis (${named.length} problem${named.length === 1 ? '' : 's'}):\n${listProblems(named)}`,
      named[0]?.path,
    );
  }
  try {
    writeFileSync(opts.out, `${JSON.stringify(assembled.json, null, 2)}\n`, { flag: 'wx', mode: 0o644 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new CliError('FILE_EXISTS', `${opts.out} already exists; refusing to overwrite a genesis (choose another --out)`, 'out');
    throw new CliError('FILE_WRITE', `cannot write ${opts.out} (${code ?? (e as Error).message})`, 'out');
  }
  const g = assembled.genesis;
  const hash = `0x${toHex(genesisHash(g))}`;
  if (opts.json === true) {
    process.stdout.write(
      `${JSON.stringify({ genesis: opts.out, chainId: g.chainId, genesisHash: hash, genesisTime: g.genesisTime, validators: assembled.json.validators.map((v) => v.name), accounts: g.accounts.length })}\n`,
    );
    return;
  }
  const lines = [
    `genesis     ${opts.out}`,
    `chain id    ${g.chainId}`,
    `time        ${g.genesisTime} (${new Date(g.genesisTime).toISOString()})`,
    `validators  ${g.validators.length}: ${assembled.json.validators.map((v) => v.name).join(', ')}`,
    `accounts    ${g.accounts.length}`,
    `hash        ${hash}`,
    '',
    'Send genesis.json and the cards to every operator, and the hash over another channel;',
    'each checks it with: joule init --home DIR --genesis genesis.json --expect-hash HASH --cards CARDS...',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerGenesisAssembleCommand(genesis: Command): void {
  genesis
    .command('assemble')
    .description("build a genesis from the validators' cards (genesis ceremony: the coordinator's step); prints its hash")
    .requiredOption('--cards <files...>', "every genesis validator's card (`joule card export`)")
    .requiredOption('--chain-id <id>', 'the chain id (every card must be for it)')
    .option('--params <file>', 'chain parameters: the `params` object of genesis.json (omitted fields take their defaults)')
    .option('--accounts <file>', 'funded accounts: a JSON array of { address, balance, roles } as in genesis.json')
    .option('--genesis-time <time>', 'ms since the epoch or ISO 8601 (default: now); give it to reproduce a genesis', timeArg('genesis-time'))
    .addOption(
      amountOption('--validator-balance <micro>', "balance of each validator's account (pays for its votes)", 'validator-balance', DEFAULT_VALIDATOR_BALANCE),
    )
    .requiredOption('--out <file>', 'where to write genesis.json (never overwritten)')
    .option('--json', 'print the result as one JSON object')
    .action(assemble);
}
