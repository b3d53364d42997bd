import type { Command } from 'commander';
import { isJouleError } from '../../core/errors.ts';
import { parseAddress } from '../../core/keys.ts';
import { ROLE_FROM_JSON, ROLE_TO_JSON, VOTABLE_ROLES, type RoleJsonName } from '../../core/roles.ts';
import { buildRoleVote, ROLE_VOTE_ACTIONS, type RoleVoteAction } from '../../core/tx/role-vote.ts';
import { CliError } from '../rpc-client.ts';
import { parseAmount, senderContext, submitTx, withSenderOptions, type SenderOptions, type SubmitOptions } from './sender.ts';

/**
 * `joule role vote grant|revoke <address> <role>`: a current validator's vote (signed with
 * its identity key, `--key`) to grant or revoke an energy role; it applies once
 * floor(n/2)+1 of the current validators sent the same vote (`joule query roles` shows
 * the votes so far).
 */

const ROLE_CHOICES = VOTABLE_ROLES.map((r) => ROLE_TO_JSON[r]);

export function registerRoleCommands(program: Command): void {
  const role = program.command('role').description('energy roles (dso, aggregator, market-operator, issuer, oracle), changed by validator vote');
  withSenderOptions(
    role
      .command('vote')
      .description('vote, as a current validator, to grant or revoke a role (applies at floor(n/2)+1 votes)')
      .argument('<action>', 'grant or revoke')
      .argument('<address>', 'the account (joule1...)')
      .argument('<role>', ROLE_CHOICES.join(', ')),
    '25',
  ).action(async (action: string, address: string, roleName: string, opts: SenderOptions & SubmitOptions & { fee: string }) => {
    if (!(ROLE_VOTE_ACTIONS as readonly string[]).includes(action))
      throw new CliError('INVALID_PARAMS', `action must be grant or revoke, got ${JSON.stringify(action)}`, 'action');
    if (!(ROLE_CHOICES as readonly string[]).includes(roleName))
      throw new CliError('INVALID_PARAMS', `role must be one of ${ROLE_CHOICES.join(', ')}, got ${JSON.stringify(roleName)}`, 'role');
    let account: Uint8Array;
    try {
      account = parseAddress(address, 'address');
    } catch (e) {
      if (isJouleError(e)) throw new CliError(e.code, e.message, 'address');
      throw e;
    }
    const fee = parseAmount(opts.fee, 'fee', true);
    const ctx = await senderContext(opts);
    const signed = buildRoleVote({
      chainId: ctx.chainId,
      seed: ctx.seed,
      nonce: ctx.nonce,
      fee,
      action: action as RoleVoteAction,
      account,
      role: ROLE_FROM_JSON[roleName as RoleJsonName],
    });
    await submitTx(ctx.client, signed, opts, { from: ctx.address, action, account: address, role: roleName, fee: fee.toString(), nonce: ctx.nonce });
  });
}
