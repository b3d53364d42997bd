import { decode, encode, readArray, readBytes, readUint } from '../codec.ts';
import { ErrorCode, JouleError } from '../errors.ts';
import { ADDRESS_LENGTH } from '../keys.ts';
import { Role, roleOfBit, VOTABLE_ROLES, type RoleName } from '../roles.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

export const ROLE_VOTE_ACTIONS = ['grant', 'revoke'] as const;
export type RoleVoteAction = (typeof ROLE_VOTE_ACTIONS)[number];

/**
 * Type 26, a validator's vote to grant or revoke one energy role (core/roles.ts
 * VOTABLE_ROLES) of one account. Wire form: [action (0 grant, 1 revoke), account (20), role bit]
 */
export interface RoleVoteBody {
  readonly action: RoleVoteAction;
  readonly account: Uint8Array;
  readonly role: RoleName;
}

const bad = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, `tx.body.${field}`);

function check(b: RoleVoteBody): void {
  if (!(ROLE_VOTE_ACTIONS as readonly string[]).includes(b.action)) throw bad('action', 'must be grant or revoke');
  if (!(b.account instanceof Uint8Array) || b.account.length !== ADDRESS_LENGTH) throw bad('account', `must be a ${ADDRESS_LENGTH}-byte address`);
  if (!VOTABLE_ROLES.includes(b.role)) throw bad('role', `must be one of ${VOTABLE_ROLES.join(', ')} (validators change by validator-vote)`);
}

export function encodeRoleVoteBody(b: RoleVoteBody): Uint8Array {
  check(b);
  return encode([ROLE_VOTE_ACTIONS.indexOf(b.action), b.account, Role[b.role]]);
}

export function decodeRoleVoteBody(bytes: Uint8Array): RoleVoteBody {
  const f = readArray(decode(bytes, 'tx.body'), 'tx.body', 3);
  const a = readUint(f[0]!, 'tx.body.action');
  const action = ROLE_VOTE_ACTIONS[a];
  if (action === undefined) throw bad('action', `must be 0 (grant) or 1 (revoke), got ${a}`);
  const bit = readUint(f[2]!, 'tx.body.role');
  const role = roleOfBit(bit);
  if (role === undefined) throw bad('role', `no role has bit ${bit}`);
  const body = { action, account: readBytes(f[1]!, 'tx.body.account', ADDRESS_LENGTH), role };
  check(body);
  return body;
}

export function buildRoleVote(args: SenderArgs & RoleVoteBody): Tx {
  return signBody(args, TxType.roleVote, encodeRoleVoteBody({ action: args.action, account: args.account, role: args.role }));
}
