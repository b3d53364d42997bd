import { equalBytes, fromHexOrUndefined, toHex } from '../../core/bytes.ts';
import { Domain, signingBytes } from '../../core/domain.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import {
  addressFromPublicKey,
  BLS_PUBLIC_KEY_LENGTH,
  BLS_SIGNATURE_LENGTH,
  blsPublicKey,
  ED25519_PUBLIC_KEY_LENGTH,
  ed25519Sign,
  ed25519Verify,
  formatAddress,
  isEd25519PublicKey,
  parseAddress,
  type BlsKeyPair,
  type Ed25519KeyPair,
} from '../../core/keys.ts';
import { signProofOfPossession, verifyProofOfPossession } from '../../core/pop.ts';
import { MAX_VALIDATORS, type Validator, VALIDATOR_NAME_PATTERN, ValidatorSet } from '../../core/validators.ts';
import type { StateChange } from '../../state/overlay.ts';
import { encodeValidators, VALIDATOR_SET_KEY } from '../../state/validator-set.ts';

/**
 * Emergency validator-set transitions (as Besu's genesis "transitions"): for a cluster
 * that lost more than a third of its validators and so can never vote again. The
 * operator writes the same signed transition into every remaining node's config; at
 * `height` the named set certifies blocks, and block `height` writes it into the state.
 * Every member of the new set signs (height, new set hash) for this chain, so a
 * transition cannot be forged by editing one config or replayed on another chain.
 *
 * Every member also carries a BLS proof of possession (core/pop.ts, the message genesis
 * and validator-vote check): commit certificates are aggregate signatures, and without
 * it a member could register a "rogue" key (its own minus the sum of the others') and
 * alone produce certificates that verify as the whole set's. Member signatures do not
 * prevent that: the rogue member signs its own entry, and the others sign the set hash.
 */
export interface Transition {
  readonly height: number;
  readonly validators: ValidatorSet;
  /** Proof of possession of each member's BLS key, indexed like `validators.validators`. */
  readonly proofsOfPossession: readonly Uint8Array[];
  readonly signatures: readonly { readonly address: Uint8Array; readonly signature: Uint8Array }[];
}

/** config.json form: byte strings 0x hex, addresses bech32. */
export interface TransitionJson {
  height: number;
  validators: { name: string; address: string; identityKey: string; blsKey: string; blsProofOfPossession: string }[];
  signatures: { address: string; signature: string }[];
}

/** What creating a transition needs of one member: its name and both of its key pairs. */
export interface TransitionMember {
  readonly name: string;
  readonly identity: Ed25519KeyPair;
  readonly bls: BlsKeyPair;
}

export function transitionSigningBytes(chainId: string, height: number, set: ValidatorSet): Uint8Array {
  return signingBytes(Domain.transition, chainId, [height, set.hash]);
}

export function signTransition(chainId: string, height: number, set: ValidatorSet, identitySeed: Uint8Array, address: Uint8Array) {
  return { address, signature: ed25519Sign(identitySeed, transitionSigningBytes(chainId, height, set)) };
}

/** Builds a transition from every member's keys: each proves possession of its BLS key and signs. */
export function createTransition(chainId: string, height: number, members: readonly TransitionMember[]): Transition {
  const validators = new ValidatorSet(
    members.map((m) => ({ name: m.name, address: addressFromPublicKey(m.identity.publicKey), identityKey: m.identity.publicKey, blsKey: m.bls.publicKey })),
  );
  const byAddress = new Map(members.map((m) => [toHex(addressFromPublicKey(m.identity.publicKey)), m]));
  const signer = (address: Uint8Array) => byAddress.get(toHex(address))!;
  return {
    height,
    validators,
    proofsOfPossession: validators.validators.map((v) => signProofOfPossession(chainId, signer(v.address).bls.secretKey, v.blsKey, v.identityKey)),
    signatures: validators.validators.map((v) => signTransition(chainId, height, validators, signer(v.address).identity.seed, v.address)),
  };
}

function invalid(path: string, message: string): JouleError {
  return new JouleError(ErrorCode.CONFIG_INVALID, message, `config.${path}`);
}

function bytes(v: unknown, length: number, path: string): Uint8Array {
  const b = typeof v === 'string' ? fromHexOrUndefined(v) : undefined;
  if (b === undefined || b.length !== length) throw invalid(path, `expected ${length} bytes of 0x hex`);
  return b;
}

/** Refuses a value already used by an earlier member (names, identity keys, BLS keys). */
function unique(seen: Map<string, string>, value: string, path: string, what: string): void {
  const first = seen.get(value);
  if (first !== undefined) throw invalid(path, `duplicate ${what} (also ${first})`);
  seen.set(value, path);
}

interface Member {
  readonly validator: Validator;
  readonly proof: Uint8Array;
}

/** One `validators[i]` entry: keys that are curve points, an address that matches, a proof of possession that verifies. */
function parseMember(v: Partial<TransitionJson['validators'][number]> | undefined, chainId: string, p: string): Member {
  // The names genesis and validator votes accept, no others (a name is part of the set's hash).
  if (typeof v?.name !== 'string' || !VALIDATOR_NAME_PATTERN.test(v.name))
    throw invalid(`${p}.name`, 'expected a name of 1-64 letters, digits, ".", "_" or "-"');
  const identityKey = bytes(v.identityKey, ED25519_PUBLIC_KEY_LENGTH, `${p}.identityKey`);
  if (!isEd25519PublicKey(identityKey)) throw invalid(`${p}.identityKey`, 'is not a valid Ed25519 public key (not a curve point)');
  // Only a string is an address: String() of a JSON object or array whose `toString` is data throws a TypeError.
  const address = parseAddress(typeof v.address === 'string' ? v.address : '', `${p}.address`);
  if (!equalBytes(address, addressFromPublicKey(identityKey))) throw invalid(`${p}.address`, 'does not match identityKey');
  const blsKey = bytes(v.blsKey, BLS_PUBLIC_KEY_LENGTH, `${p}.blsKey`);
  if (blsPublicKey(blsKey) === undefined) throw invalid(`${p}.blsKey`, 'is not a valid BLS12-381 G1 public key (not a point in the subgroup, or infinity)');
  const proof = bytes(v.blsProofOfPossession, BLS_SIGNATURE_LENGTH, `${p}.blsProofOfPossession`);
  if (!verifyProofOfPossession(chainId, blsKey, identityKey, proof)) {
    throw invalid(
      `${p}.blsProofOfPossession`,
      `does not verify: it must be blsKey's signature over (${Domain.proofOfPossession}, chainId, blsKey, identityKey) for chain ${JSON.stringify(chainId)}`,
    );
  }
  return { validator: { name: v.name, address, identityKey, blsKey }, proof };
}

/** Parses and verifies one transition; every member of the new set must have signed it. */
export function parseTransition(json: unknown, chainId: string, path: string): Transition {
  const t = json as Partial<TransitionJson> | null;
  if (typeof t !== 'object' || t === null) throw invalid(path, 'expected an object');
  if (!Number.isSafeInteger(t.height) || (t.height as number) < 1) throw invalid(`${path}.height`, 'expected a height >= 1');
  if (!Array.isArray(t.validators) || t.validators.length === 0) throw invalid(`${path}.validators`, 'expected a non-empty list');
  // The bound genesis and votes keep: a larger set's round change needs more entries than a node decodes.
  if (t.validators.length > MAX_VALIDATORS) throw invalid(`${path}.validators`, `at most ${MAX_VALIDATORS} validators, got ${t.validators.length}`);
  const names = new Map<string, string>();
  const identities = new Map<string, string>();
  const blsKeys = new Map<string, string>();
  const members = t.validators.map((v, i) => {
    const p = `${path}.validators[${i}]`;
    const m = parseMember(v, chainId, p);
    unique(names, m.validator.name, `${p}.name`, 'name');
    unique(identities, toHex(m.validator.identityKey), `${p}.identityKey`, 'identity key');
    unique(blsKeys, toHex(m.validator.blsKey), `${p}.blsKey`, 'BLS key');
    return m;
  });
  const set = new ValidatorSet(members.map((m) => m.validator));
  const proofOf = new Map(members.map((m) => [toHex(m.validator.address), m.proof]));
  const message = transitionSigningBytes(chainId, t.height as number, set);
  const signed = new Set<string>();
  const signatures = (Array.isArray(t.signatures) ? t.signatures : []).map((s, i) => {
    const p = `${path}.signatures[${i}]`;
    const address = parseAddress(typeof s?.address === 'string' ? s.address : '', `${p}.address`);
    const member = set.validators[set.indexOf(address)];
    if (member === undefined) throw invalid(`${p}.address`, 'is not in the new validator set');
    const signature = bytes(s?.signature, 64, `${p}.signature`);
    if (!ed25519Verify(member.identityKey, message, signature)) throw invalid(`${p}.signature`, 'does not verify');
    signed.add(toHex(address));
    return { address, signature };
  });
  const missing = set.validators.filter((v) => !signed.has(toHex(v.address)));
  if (missing.length > 0) throw invalid(`${path}.signatures`, `missing signatures of ${missing.map((v) => v.name).join(', ')}`);
  return { height: t.height as number, validators: set, proofsOfPossession: set.validators.map((v) => proofOf.get(toHex(v.address))!), signatures };
}

export function transitionToJson(t: Transition): TransitionJson {
  return {
    height: t.height,
    validators: t.validators.validators.map((v, i) => ({
      name: v.name,
      address: formatAddress(v.address),
      identityKey: `0x${toHex(v.identityKey)}`,
      blsKey: `0x${toHex(v.blsKey)}`,
      blsProofOfPossession: `0x${toHex(t.proofsOfPossession[i]!)}`,
    })),
    signatures: t.signatures.map((s) => ({ address: formatAddress(s.address), signature: `0x${toHex(s.signature)}` })),
  };
}

/** Block `height` of a transition writes the new set into the state (sorted change list kept sorted). */
export function withTransition(changes: readonly StateChange[], set: ValidatorSet): StateChange[] {
  const out = changes.filter((c) => !equalBytes(c.key, VALIDATOR_SET_KEY));
  out.push({ key: VALIDATOR_SET_KEY, value: encodeValidators(set) });
  return out.sort((a, b) => Buffer.compare(a.key, b.key));
}
