import type { BlockEvent } from '../core/block.ts';
import { toHex } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { hasRole, Role, ROLE_TO_JSON } from '../core/roles.ts';
import { decodeRoleVoteBody, encodeRoleVoteBody, type RoleVoteBody } from '../core/tx/role-vote.ts';
import { TxType } from '../core/tx/types.ts';
import type { Tx } from '../core/tx.ts';
import { GOVERNANCE_PREFIX, governanceProposalId, governanceProposalKey } from '../state/governance-votes.ts';
import { accountKey } from '../state/keys.ts';
import type { StateOverlay, StateReader } from '../state/overlay.ts';
import { VALIDATOR_SET_KEY } from '../state/validator-set.ts';
import { addressText, readAccount, writeAccount } from './accounts.ts';
import { castGovernanceVote, checkGovernanceVoter } from './governance.ts';
import type { ExecContext, TxHandler } from './types.ts';

/**
 * Type 26: a current validator votes to grant or revoke one energy role (dso, aggregator,
 * market-operator, issuer, oracle) of one account; the vote that brings the same body to
 * floor(n/2)+1 of the n current validators applies it (vm/governance.ts, like
 * validator-vote). Genesis lists the first roles. Validity: the sender is a validator and
 * has not voted this proposal; the change is not a no-op (granting a role the account
 * holds, revoking one it lacks).
 */

function checkState(state: StateReader, body: RoleVoteBody, tx: Tx): void {
  checkGovernanceVoter(state, tx, 'is not a current validator; only validators vote');
  const holds = hasRole(readAccount(state, body.account).roles, body.role);
  const name = ROLE_TO_JSON[body.role];
  if (body.action === 'grant' && holds)
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `${addressText(body.account)} already holds the ${name} role`, 'tx.body.role');
  if (body.action === 'revoke' && !holds)
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `${addressText(body.account)} does not hold the ${name} role`, 'tx.body.role');
}

function apply(state: StateOverlay, body: RoleVoteBody): BlockEvent[] {
  const account = readAccount(state, body.account);
  const roles = body.action === 'grant' ? account.roles | Role[body.role] : account.roles & ~Role[body.role];
  writeAccount(state, body.account, { ...account, roles });
  return [
    {
      type: body.action === 'grant' ? 'role-granted' : 'role-revoked',
      attributes: [
        ['account', addressText(body.account)],
        ['role', ROLE_TO_JSON[body.role]],
      ],
    },
  ];
}

function execute({ state, tx, body, block }: ExecContext<RoleVoteBody>): BlockEvent[] {
  return castGovernanceVote(state, tx, block, () => apply(state, body));
}

/** The target account, the validator set and this body's proposal (plus GOVERNANCE_PREFIX: a vote sweeps expired proposals). */
export function roleVoteKeys(body: RoleVoteBody, tx: Tx): Uint8Array[] {
  return [accountKey(body.account), VALIDATOR_SET_KEY, governanceProposalKey(governanceProposalId(tx.type, tx.body))];
}

export const roleVoteHandler: TxHandler<RoleVoteBody> = {
  type: TxType.roleVote,
  name: 'role-vote',
  tier: 'grid_balancing',
  decodeBody: decodeRoleVoteBody,
  spend: () => 0n,
  keys: roleVoteKeys,
  prefixes: () => [GOVERNANCE_PREFIX],
  checkState,
  execute,
  describe: (body) => ({
    action: body.action,
    account: addressText(body.account),
    role: ROLE_TO_JSON[body.role],
    proposal: `0x${toHex(governanceProposalId(TxType.roleVote, encodeRoleVoteBody(body)))}`,
  }),
};
