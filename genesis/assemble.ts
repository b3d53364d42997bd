import { toHex } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { parseAddress } from '../core/keys.ts';
import type { RoleJsonName } from '../core/roles.ts';
import type { Genesis, GenesisAccountJson, GenesisJson, GenesisProblem, GenesisValidatorJson } from './types.ts';
import { checkGenesis } from './validate.ts';

/**
 * The coordinator's half of the genesis ceremony: a genesis built from the validators'
 * public cards (each checked by its operator's proof of possession), the chain parameters
 * and the funded accounts, and validated by the very rules every node applies when it
 * loads the file. Nothing secret is an input. The result depends on the content only:
 * validators and accounts are sorted by address, so the same cards given in any order
 * produce the same file, byte for byte, and the same hash.
 */

/** One validator entry taken from a card, with where it came from (for messages). */
export interface AssembleValidator {
  /** Where the entry came from (a card file), named in every problem about it. */
  readonly source: string;
  /** The chain the card's proof of possession was made for. */
  readonly chainId: string;
  readonly validator: GenesisValidatorJson;
}

export interface AssembleInput {
  readonly chainId: string;
  /** Milliseconds since the Unix epoch. */
  readonly genesisTime: number;
  /** The `params` object (a params file's content); undefined: every default. */
  readonly params?: unknown;
  readonly paramsSource?: string;
  readonly validators: readonly AssembleValidator[];
  /** An array of `{ address, balance, roles }` as in genesis.json (an accounts file's content). */
  readonly accounts?: unknown;
  readonly accountsSource?: string;
  /**
   * Balance of the account each validator gets (role `validator`), so that it can pay for
   * its votes. An accounts entry for a validator's address keeps its own balance and roles
   * and gains the `validator` role.
   */
  readonly validatorBalance: bigint;
}

export interface Assembled {
  readonly json: GenesisJson;
  readonly genesis: Genesis;
}

/** The genesis, or JouleError GENESIS_INVALID listing every problem, each named after the input it came from. */
export function assembleGenesis(input: AssembleInput): Assembled {
  const { problems, assembled } = tryAssemble(input);
  if (assembled === undefined || problems.length > 0) {
    const list = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
    const err = new JouleError(
      ErrorCode.GENESIS_INVALID,
      `cannot assemble the genesis (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${list}`,
    );
    throw Object.assign(err, { problems });
  }
  return assembled;
}

/** A sort and match key for an address field: its bytes, or for anything malformed (reported by validation) its JSON text. */
function addressKey(text: unknown): string {
  if (typeof text !== 'string') return `?${JSON.stringify(text) ?? typeof text}`;
  try {
    return toHex(parseAddress(text));
  } catch {
    return `?${text}`;
  }
}

const byAddress = (a: { address: unknown }, b: { address: unknown }): number => {
  const [x, y] = [addressKey(a.address), addressKey(b.address)];
  return x < y ? -1 : x > y ? 1 : 0;
};

/** Every problem of the input, and the genesis when there is none. */
export function tryAssemble(input: AssembleInput): { problems: GenesisProblem[]; assembled?: Assembled } {
  const problems: GenesisProblem[] = [];
  for (const v of input.validators) {
    if (v.chainId !== input.chainId)
      problems.push({ path: v.source, message: `is a card for chain ${JSON.stringify(v.chainId)}, not ${JSON.stringify(input.chainId)}` });
  }
  if (input.validatorBalance < 0n || input.validatorBalance >= 2n ** 64n) {
    problems.push({ path: 'validatorBalance', message: `must fit in uint64, got ${input.validatorBalance}` });
  }
  const fileAccounts = input.accounts === undefined ? [] : input.accounts;
  if (!Array.isArray(fileAccounts)) {
    problems.push({ path: input.accountsSource ?? 'accounts', message: 'must be a JSON array of { address, balance, roles }' });
  }
  if (problems.length > 0) return { problems };

  const validators = [...input.validators].sort((a, b) => byAddress(a.validator, b.validator) || compareStrings(a.source, b.source));
  const listed = fileAccounts as unknown[];
  // Accounts file entries keep their positions (so problems name the entry in the file);
  // the validators' own accounts follow, and the result is sorted only once it is valid.
  const accounts: unknown[] = listed.map((a) => (typeof a === 'object' && a !== null && !Array.isArray(a) ? { ...a } : a));
  const owner: string[] = [];
  for (const v of validators) {
    const key = addressKey(v.validator.address);
    const existing = accounts.find((a) => typeof a === 'object' && a !== null && addressKey((a as { address?: unknown }).address) === key) as
      | { roles?: unknown }
      | undefined;
    if (existing !== undefined) {
      // A malformed roles field is left as it is, for validation to report.
      if (existing.roles === undefined) existing.roles = ['validator'];
      else if (Array.isArray(existing.roles) && !existing.roles.includes('validator')) existing.roles = [...existing.roles, 'validator'];
      continue;
    }
    owner[accounts.length] = v.source;
    accounts.push({ address: v.validator.address, balance: input.validatorBalance.toString(), roles: ['validator'] satisfies RoleJsonName[] });
  }

  const json = {
    chainId: input.chainId,
    genesisTime: input.genesisTime,
    ...(input.params !== undefined ? { params: input.params } : {}),
    validators: validators.map((v) => v.validator),
    accounts,
  };
  const checked = checkGenesis(json);
  if (checked.genesis === undefined || checked.problems.length > 0) {
    const name = (path: string): string => rename(path, input, validators, listed.length, owner);
    return {
      problems: checked.problems.map((p) => ({
        path: name(p.path),
        message: p.message.replace(/(validators|accounts)\[\d+\](\.[A-Za-z]+)?/g, (m) => name(m)),
      })),
    };
  }
  const sorted = { ...json, accounts: [...(accounts as GenesisAccountJson[])].sort(byAddress) } as GenesisJson;
  const final = checkGenesis(sorted);
  return { problems: [], assembled: { json: sorted, genesis: final.genesis! } };
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A path in the assembled genesis, named after the input it came from. */
function rename(path: string, input: AssembleInput, validators: readonly AssembleValidator[], listedAccounts: number, owner: readonly string[]): string {
  let m = /^validators\[(\d+)\](?:\.(.*))?$/.exec(path);
  if (m !== null) return `${validators[Number(m[1])]?.source ?? path}${m[2] !== undefined ? `: ${m[2]}` : ''}`;
  m = /^accounts\[(\d+)\](.*)$/.exec(path);
  if (m !== null) {
    const i = Number(m[1]);
    if (i < listedAccounts) return `${input.accountsSource ?? 'accounts'}: [${i}]${m[2]}`;
    return `${owner[i] ?? path}: the validator's account${m[2]}`;
  }
  m = /^params(?:\.(.*))?$/.exec(path);
  if (m !== null && input.paramsSource !== undefined) return m[1] !== undefined ? `${input.paramsSource}: ${m[1]}` : input.paramsSource;
  if (path === 'validators') return 'cards';
  return path;
}
