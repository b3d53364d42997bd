import { equalBytes, fromHexOrUndefined, toHex } from '../core/bytes.ts';
import { Domain, signingBytes } from '../core/domain.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { addressFromPublicKey, BLS_PUBLIC_KEY_LENGTH, ED25519_PUBLIC_KEY_LENGTH, ed25519Sign, ed25519Verify, formatAddress, parseAddress } from '../core/keys.ts';
import { type Validator, ValidatorSet } from '../core/validators.ts';
import type { StateChange } from '../state/overlay.ts';
import { encodeValidators, VALIDATOR_SET_KEY } from '../state/validator-set.ts';

/**
 * Emergency validator-set transitions (as Besu's genesis "transitions"): for a cluster
 * that lost more than a third of its validators and so can never vote again. The
 * operator writes the same signed transition into every remaining node's config; at
 * `height` the named set certifies blocks, and block `height` writes it into the state.
 * Every member of the new set signs (height, new set hash) for this chain, so a
 * transition cannot be forged by editing one config or replayed on another chain.
 */
export interface Transition {
  readonly height: number;
  readonly validators: ValidatorSet;
  readonly signatures: readonly { readonly address: Uint8Array; readonly signature: Uint8Array }[];
}

/** config.json form: byte strings 0x hex, addresses bech32. */
export interface TransitionJson {
  height: number;
  validators: { name: string; address: string; identityKey: string; blsKey: string }[];
  signatures: { address: string; signature: string }[];
}

export function transitionSigningBytes(chainId: string, height: number, set: ValidatorSet): Uint8Array {
  return signingBytes(Domain.transition, chainId, [height, set.hash]);
}

export function signTransition(chainId: string, height: number, set: ValidatorSet, identitySeed: Uint8Array, address: Uint8Array) {
  return { address, signature: ed25519Sign(identitySeed, transitionSigningBytes(chainId, height, set)) };
}

function invalid(path: string, message: string): JouleError {
  return new JouleError(ErrorCode.CONFIG_INVALID, message, `config.${path}`);
}

function bytes(v: unknown, length: number, path: string): Uint8Array {
  const b = typeof v === 'string' ? fromHexOrUndefined(v) : undefined;
  if (b === undefined || b.length !== length) throw invalid(path, `expected ${length} bytes of 0x hex`);
  return b;
}

/** Parses and verifies one transition; every member of the new set must have signed it. */
export function parseTransition(json: unknown, chainId: string, path: string): Transition {
  const t = json as Partial<TransitionJson> | null;
  if (typeof t !== 'object' || t === null) throw invalid(path, 'expected an object');
  if (!Number.isSafeInteger(t.height) || (t.height as number) < 1) throw invalid(`${path}.height`, 'expected a height >= 1');
  if (!Array.isArray(t.validators) || t.validators.length === 0) throw invalid(`${path}.validators`, 'expected a non-empty list');
  const validators: Validator[] = t.validators.map((v, i) => {
    const p = `${path}.validators[${i}]`;
    const identityKey = bytes(v?.identityKey, ED25519_PUBLIC_KEY_LENGTH, `${p}.identityKey`);
    const address = parseAddress(String(v?.address), `${p}.address`);
    if (!equalBytes(address, addressFromPublicKey(identityKey))) throw invalid(`${p}.address`, 'does not match identityKey');
    if (typeof v?.name !== 'string' || v.name.length === 0) throw invalid(`${p}.name`, 'expected a name');
    return { name: v.name, address, identityKey, blsKey: bytes(v?.blsKey, BLS_PUBLIC_KEY_LENGTH, `${p}.blsKey`) };
  });
  const set = new ValidatorSet(validators);
  if (set.size !== new Set(validators.map((v) => toHex(v.address))).size) throw invalid(`${path}.validators`, 'duplicate validator');
  const message = transitionSigningBytes(chainId, t.height as number, set);
  const signed = new Set<string>();
  const signatures = (Array.isArray(t.signatures) ? t.signatures : []).map((s, i) => {
    const p = `${path}.signatures[${i}]`;
    const address = parseAddress(String(s?.address), `${p}.address`);
    const member = set.validators[set.indexOf(address)];
    if (member === undefined) throw invalid(`${p}.address`, 'is not in the new validator set');
    const signature = bytes(s?.signature, 64, `${p}.signature`);
    if (!ed25519Verify(member.identityKey, message, signature)) throw invalid(`${p}.signature`, 'does not verify');
    signed.add(toHex(address));
    return { address, signature };
  });
  const missing = set.validators.filter((v) => !signed.has(toHex(v.address)));
  if (missing.length > 0) throw invalid(`${path}.signatures`, `missing signatures of ${missing.map((v) => v.name).join(', ')}`);
  return { height: t.height as number, validators: set, signatures };
}

export function transitionToJson(t: Transition): TransitionJson {
  return {
    height: t.height,
    validators: t.validators.validators.map((v) => ({ name: v.name, address: formatAddress(v.address), identityKey: `0x${toHex(v.identityKey)}`, blsKey: `0x${toHex(v.blsKey)}` })),
    signatures: t.signatures.map((s) => ({ address: formatAddress(s.address), signature: `0x${toHex(s.signature)}` })),
  };
}

/** Block `height` of a transition writes the new set into the state (sorted change list kept sorted). */
export function withTransition(changes: readonly StateChange[], set: ValidatorSet): StateChange[] {
  const out = changes.filter((c) => !equalBytes(c.key, VALIDATOR_SET_KEY));
  out.push({ key: VALIDATOR_SET_KEY, value: encodeValidators(set) });
  return out.sort((a, b) => Buffer.compare(a.key, b.key));
}
