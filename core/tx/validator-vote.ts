import { decode, encode, readArray, readBytes, readString, readUint } from '../codec.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import { BLS_PUBLIC_KEY_LENGTH, BLS_SIGNATURE_LENGTH, ED25519_PUBLIC_KEY_LENGTH } from '../keys.ts';
import type { Tx } from '../tx.ts';
import { VALIDATOR_NAME_PATTERN } from '../validators.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

export const ValidatorVoteAction = { add: 0, remove: 1 } as const;
export type ValidatorVoteActionId = (typeof ValidatorVoteAction)[keyof typeof ValidatorVoteAction];
export type ValidatorVoteActionName = keyof typeof ValidatorVoteAction;

/**
 * A vote to add or remove one validator. Wire form:
 * [action (0 add, 1 remove), name, identityKey (32), blsKey (48), blsProofOfPossession]
 * The PoP is 96 bytes for add and empty for remove (one encoding per proposal: a remove
 * needs no proof, and allowing an optional one would give the same vote two encodings).
 */
export interface ValidatorVoteBody {
  readonly action: ValidatorVoteActionId;
  readonly name: string;
  readonly identityKey: Uint8Array;
  readonly blsKey: Uint8Array;
  readonly blsProofOfPossession: Uint8Array;
}

function checkValidatorVote(b: ValidatorVoteBody): void {
  const bad = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, `tx.body.${field}`);
  if (b.action !== 0 && b.action !== 1) throw bad('action', 'must be 0 (add) or 1 (remove)');
  if (!VALIDATOR_NAME_PATTERN.test(b.name)) throw bad('name', 'must be 1-64 letters, digits, ".", "_" or "-"');
  if (!(b.identityKey instanceof Uint8Array) || b.identityKey.length !== ED25519_PUBLIC_KEY_LENGTH)
    throw bad('identityKey', `must be ${ED25519_PUBLIC_KEY_LENGTH} bytes`);
  if (!(b.blsKey instanceof Uint8Array) || b.blsKey.length !== BLS_PUBLIC_KEY_LENGTH) throw bad('blsKey', `must be ${BLS_PUBLIC_KEY_LENGTH} bytes`);
  const popLength = b.action === 0 ? BLS_SIGNATURE_LENGTH : 0;
  if (!(b.blsProofOfPossession instanceof Uint8Array) || b.blsProofOfPossession.length !== popLength) {
    throw bad('blsProofOfPossession', b.action === 0 ? `must be ${BLS_SIGNATURE_LENGTH} bytes for add` : 'must be empty for remove');
  }
}

export function encodeValidatorVoteBody(body: ValidatorVoteBody): Uint8Array {
  checkValidatorVote(body);
  return encode([body.action, body.name, body.identityKey, body.blsKey, body.blsProofOfPossession]);
}

/** Throws CODEC_* or TX_INVALID_FIELD naming `tx.body.*`. Key validity (curve points) and the PoP are the vm's checks. */
export function decodeValidatorVoteBody(bytes: Uint8Array): ValidatorVoteBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 5);
  const action = readUint(f[0]!, 'tx.body.action');
  const body = {
    action: action as ValidatorVoteActionId,
    name: readString(f[1]!, 'tx.body.name', 64),
    identityKey: readBytes(f[2]!, 'tx.body.identityKey'),
    blsKey: readBytes(f[3]!, 'tx.body.blsKey'),
    blsProofOfPossession: readBytes(f[4]!, 'tx.body.blsProofOfPossession'),
  };
  checkValidatorVote(body);
  return body;
}

export interface BuildValidatorVoteArgs extends SenderArgs {
  readonly action: ValidatorVoteActionName;
  /** For remove, the keys (and name) of the member to remove; the proof is then omitted. */
  readonly validator: {
    readonly name: string;
    readonly identityKey: Uint8Array;
    readonly blsKey: Uint8Array;
    readonly blsProofOfPossession?: Uint8Array;
  };
}

/** Builds and signs a validator-vote tx (core/pop.ts signProofOfPossession makes the add's proof). */
export function buildValidatorVote(args: BuildValidatorVoteArgs): Tx {
  const action = ValidatorVoteAction[args.action];
  const v = args.validator;
  const body = encodeValidatorVoteBody({
    action,
    name: v.name,
    identityKey: v.identityKey,
    blsKey: v.blsKey,
    blsProofOfPossession: action === ValidatorVoteAction.add ? (v.blsProofOfPossession ?? new Uint8Array(0)) : new Uint8Array(0),
  });
  return signBody(args, TxType.validatorVote, body);
}
