import { toHex } from '../core/bytes.ts';
import { Domain } from '../core/domain.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { addressFromPublicKey, blsPublicKey, formatAddress, isEd25519PublicKey, parseAddress } from '../core/keys.ts';
import { UINT64_MAX } from '../core/codec.ts';
import { Checker } from './check.ts';
import { checkParams } from './params.ts';
import { verifyProofOfPossession } from '../core/pop.ts';
import { ROLE_FROM_JSON, ROLE_JSON_NAMES, type RoleJsonName, type RoleName } from '../core/roles.ts';
import { MAX_VALIDATORS, VALIDATOR_NAME_PATTERN } from '../core/validators.ts';
import type { Genesis, GenesisAccount, GenesisProblem, GenesisValidator } from './types.ts';
import { governorSetProblems } from '../core/reversal.ts';

export const CHAIN_ID_PATTERN = /^[a-z0-9-]{1,64}$/;
/** Upper bound on the genesis validator set: core/validators.ts, which votes keep too. */
export { MAX_VALIDATORS };
// Below this a timestamp is almost certainly in seconds, not milliseconds.
const MIN_GENESIS_TIME = 1_000_000_000_000;
const MAX_GENESIS_TIME = 253_402_300_799_999; // 9999-12-31

const TOP_FIELDS = ['chainId', 'genesisTime', 'params', 'validators', 'accounts', 'governors', 'governorThreshold'] as const;
const VALIDATOR_FIELDS = ['name', 'address', 'identityKey', 'blsKey', 'blsProofOfPossession'] as const;
const ACCOUNT_FIELDS = ['address', 'balance', 'roles'] as const;

/** Every problem in a genesis JSON value, each with its JSON path; empty when valid. */
/** A bech32 address field: parsed, reported if malformed, and checked for duplicates. */
function checkAddress(c: Checker, v: unknown, path: string, seen: Seen): Uint8Array | undefined {
  if (typeof v !== 'string') {
    c.add(path, 'must be a bech32 address string (joule1...)');
    return undefined;
  }
  try {
    const address = parseAddress(v);
    seen.check(c, toHex(address), path, 'address');
    return address;
  } catch (e) {
    c.add(path, (e as JouleError).message.replace(/^address: /, ''));
    return undefined;
  }
}

export function validateGenesis(json: unknown): GenesisProblem[] {
  return checkGenesis(json).problems;
}

/** The typed genesis, or JouleError GENESIS_INVALID listing every problem. */
export function parseGenesis(json: unknown): Genesis {
  const { problems, genesis } = checkGenesis(json);
  if (genesis === undefined || problems.length > 0) {
    const list = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
    const err = new JouleError(
      ErrorCode.GENESIS_INVALID,
      `invalid genesis (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${list}`,
      problems[0]?.path,
    );
    throw Object.assign(err, { problems });
  }
  return genesis;
}

export function checkGenesis(json: unknown): { problems: GenesisProblem[]; genesis?: Genesis } {
  const c = new Checker();
  const o = c.object(json, '$');
  if (o === undefined) return { problems: c.problems };
  c.unknownFields(o, TOP_FIELDS, '$');

  const chainId = c.string(o.chainId, 'chainId', CHAIN_ID_PATTERN, '[a-z0-9-], at most 64 characters', 64);
  let genesisTime: number | undefined;
  if (typeof o.genesisTime === 'number' && Number.isSafeInteger(o.genesisTime) && o.genesisTime > 0 && o.genesisTime < MIN_GENESIS_TIME) {
    c.add('genesisTime', `must be in milliseconds since the Unix epoch; ${o.genesisTime} looks like seconds`);
  } else {
    genesisTime = c.int(o.genesisTime, 'genesisTime', MIN_GENESIS_TIME, MAX_GENESIS_TIME);
  }
  const params = checkParams(c, o.params);
  // The PoP is bound to the chain id; check it against whatever string is there so a
  // wrong chain id shows up on each validator too.
  const validators = checkValidators(c, o.validators, typeof o.chainId === 'string' ? o.chainId : undefined);
  const accounts = checkAccounts(c, o.accounts);
  const governors = checkGovernors(c, o.governors, o.governorThreshold);

  if (c.problems.length > 0) return { problems: c.problems };
  return {
    problems: [],
    genesis: { chainId: chainId!, genesisTime: genesisTime!, params: params!, validators: validators!, accounts: accounts!, ...governors },
  };
}

/** Remembers the first path of each value so a duplicate names the one it repeats. */
class Seen {
  private readonly first = new Map<string, string>();
  check(c: Checker, key: string, path: string, what: string): void {
    const prev = this.first.get(key);
    if (prev !== undefined) c.add(path, `duplicate ${what}: same as ${prev}`);
    else this.first.set(key, path);
  }
}

function checkValidators(c: Checker, v: unknown, chainId: string | undefined): GenesisValidator[] | undefined {
  const arr = c.array(v, 'validators');
  if (arr === undefined) return undefined;
  if (arr.length === 0) c.add('validators', 'at least one validator is required');
  if (arr.length > MAX_VALIDATORS) c.add('validators', `at most ${MAX_VALIDATORS} validators, got ${arr.length}`);
  const before = c.problems.length;
  const names = new Seen();
  const addresses = new Seen();
  const identities = new Seen();
  const blsKeys = new Seen();
  const out: GenesisValidator[] = [];
  arr.forEach((item, i) => {
    const p = `validators[${i}]`;
    const o = c.object(item, p);
    if (o === undefined) return;
    c.unknownFields(o, VALIDATOR_FIELDS, p);
    const name = c.string(o.name, `${p}.name`, VALIDATOR_NAME_PATTERN, 'letters, digits, ".", "_" or "-", at most 64 characters', 64);
    if (name !== undefined) names.check(c, name, `${p}.name`, 'name');

    const address = checkAddress(c, o.address, `${p}.address`, addresses);

    let identityKey = c.hex(o.identityKey, `${p}.identityKey`, 32);
    if (identityKey !== undefined && !isEd25519PublicKey(identityKey)) {
      c.add(`${p}.identityKey`, 'is not a valid Ed25519 public key (not a curve point)');
      identityKey = undefined;
    }
    if (identityKey !== undefined) {
      identities.check(c, toHex(identityKey), `${p}.identityKey`, 'identity key');
      const derived = addressFromPublicKey(identityKey);
      if (address !== undefined && toHex(derived) !== toHex(address)) {
        c.add(`${p}.address`, `does not match identityKey (the address derived from it is ${formatAddress(derived)})`);
      }
    }

    let blsKey = c.hex(o.blsKey, `${p}.blsKey`, 48);
    if (blsKey !== undefined && blsPublicKey(blsKey) === undefined) {
      c.add(`${p}.blsKey`, 'is not a valid BLS12-381 G1 public key (not a point in the subgroup, or infinity)');
      blsKey = undefined;
    }
    if (blsKey !== undefined) blsKeys.check(c, toHex(blsKey), `${p}.blsKey`, 'BLS key');

    const pop = c.hex(o.blsProofOfPossession, `${p}.blsProofOfPossession`, 96);
    if (pop !== undefined && blsKey !== undefined && identityKey !== undefined && chainId !== undefined) {
      if (!verifyProofOfPossession(chainId, blsKey, identityKey, pop)) {
        c.add(
          `${p}.blsProofOfPossession`,
          `does not verify: it must be blsKey's signature over (${Domain.proofOfPossession}, chainId, blsKey, identityKey) for chain ${JSON.stringify(chainId)}`,
        );
      }
    }
    if (name !== undefined && address !== undefined && identityKey !== undefined && blsKey !== undefined && pop !== undefined) {
      out.push({ name, address, identityKey, blsKey, blsProofOfPossession: pop });
    }
  });
  return c.problems.length > before ? undefined : out;
}

function checkAccounts(c: Checker, v: unknown): GenesisAccount[] | undefined {
  if (v === undefined) return [];
  const arr = c.array(v, 'accounts');
  if (arr === undefined) return undefined;
  const before = c.problems.length;
  const addresses = new Seen();
  const out: GenesisAccount[] = [];
  let total = 0n;
  arr.forEach((item, i) => {
    const p = `accounts[${i}]`;
    const o = c.object(item, p);
    if (o === undefined) return;
    c.unknownFields(o, ACCOUNT_FIELDS, p);
    const address = checkAddress(c, o.address, `${p}.address`, addresses);
    const balance = c.amount(o.balance, `${p}.balance`);
    if (balance !== undefined) total += balance;
    const roles = checkRoles(c, o.roles, `${p}.roles`);
    if (address !== undefined && balance !== undefined && roles !== undefined) out.push({ address, balance, roles });
  });
  if (total > UINT64_MAX) c.add('accounts', `total supply ${total} exceeds uint64 (${UINT64_MAX})`);
  return c.problems.length > before ? undefined : out;
}

/** `governors` (bech32, distinct, at most MAX_GOVERNORS) and `governorThreshold` (1..their number), both or neither. */
function checkGovernors(c: Checker, list: unknown, threshold: unknown): Pick<Genesis, 'governors' | 'governorThreshold'> | undefined {
  if (list === undefined && threshold === undefined) return {};
  if (list === undefined) {
    c.add('governors', 'must list the governors when governorThreshold is given');
    return undefined;
  }
  const arr = c.array(list, 'governors');
  if (arr === undefined) return undefined;
  const before = c.problems.length;
  if (arr.length === 0) c.add('governors', 'must name at least one governor (or leave both governors and governorThreshold out)');
  const seen = new Seen();
  const governors = arr.map((v, i) => checkAddress(c, v, `governors[${i}]`, seen));
  const k = c.int(threshold, 'governorThreshold', 1, Math.max(1, arr.length));
  if (c.problems.length > before) return undefined;
  const out = governors as Uint8Array[];
  for (const [which, why] of governorSetProblems(out, k!)) c.add(which, why);
  return c.problems.length > before ? undefined : { governors: out, governorThreshold: k! };
}

function checkRoles(c: Checker, v: unknown, path: string): RoleName[] | undefined {
  if (v === undefined) return [];
  const arr = c.array(v, path);
  if (arr === undefined) return undefined;
  const out: RoleName[] = [];
  let ok = true;
  arr.forEach((r, i) => {
    if (typeof r !== 'string' || !(ROLE_JSON_NAMES as readonly string[]).includes(r)) {
      c.add(`${path}[${i}]`, `must be one of ${ROLE_JSON_NAMES.join(', ')}, got ${JSON.stringify(r)}`);
      ok = false;
    } else if (out.includes(ROLE_FROM_JSON[r as RoleJsonName])) {
      c.add(`${path}[${i}]`, `duplicate role ${r}`);
      ok = false;
    } else out.push(ROLE_FROM_JSON[r as RoleJsonName]);
  });
  return ok ? out : undefined;
}
