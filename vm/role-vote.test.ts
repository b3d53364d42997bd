import { describe, expect, it } from 'vitest';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { hasRole, type RoleName } from '../core/roles.ts';
import { buildRoleVote, type RoleVoteAction } from '../core/tx/role-vote.ts';
import { buildValidatorVote } from '../core/tx/validator-vote.ts';
import type { TestValidator } from '../consensus/testing/fixtures.ts';
import { getAccount } from '../state/accounts.ts';
import { listGovernanceProposals } from '../state/governance-votes.ts';
import { getValidatorSet } from '../state/validator-set.ts';
import { GOVERNANCE_VOTE_TTL_MS, MAX_OPEN_GOVERNANCE_VOTES } from './governance.ts';
import { energyChain } from './testing/energy-chain.ts';
import { testKey, type TestKey } from './testing/fixtures.ts';

function rejection(f: () => unknown): { code: string; field: string | undefined; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof JouleError) return { code: e.code, field: e.field, message: e.message };
    throw e;
  }
  throw new Error('was not rejected');
}

function setup(validators = 4) {
  const c = energyChain({ validators, accounts: { dso: ['dso'], newcomer: [] } });
  const vote = (v: TestValidator | TestKey, action: RoleVoteAction, account: Uint8Array, role: RoleName, offset = 0) =>
    buildRoleVote({ ...c.sender(v, offset), action, account, role });
  const roles = (a: Uint8Array) => getAccount(c.state, a).roles;
  return { c, vote, roles, newcomer: c.accounts.newcomer!, dso: c.accounts.dso! };
}

describe('role-vote', () => {
  it('grants a role at floor(n/2)+1 identical votes of the current validators, and revokes it the same way', () => {
    const { c, vote, roles, newcomer } = setup(4);
    const [v0, v1, v2] = c.validators;
    c.block(vote(v0!, 'grant', newcomer.address, 'oracle'));
    c.block(vote(v1!, 'grant', newcomer.address, 'oracle'));
    expect(hasRole(roles(newcomer.address), 'oracle')).toBe(false);
    const r = c.block(vote(v2!, 'grant', newcomer.address, 'oracle'));
    expect(r.receipts[0]!.events.map((e) => e.type)).toEqual(['governance-vote', 'governance-applied', 'role-granted']);
    expect(hasRole(roles(newcomer.address), 'oracle')).toBe(true);
    expect(listGovernanceProposals(c.state)).toEqual([]);
    for (const v of [v0!, v1!, v2!]) c.block(vote(v, 'revoke', newcomer.address, 'oracle'));
    expect(roles(newcomer.address)).toBe(0);
  });

  it("keeps the account's other roles, balance and nonce", () => {
    const { c, vote, roles, dso } = setup(1);
    const before = getAccount(c.state, dso.address);
    c.block(vote(c.validators[0]!, 'grant', dso.address, 'issuer'));
    expect(hasRole(roles(dso.address), 'dso') && hasRole(roles(dso.address), 'issuer')).toBe(true);
    expect(getAccount(c.state, dso.address)).toMatchObject({ balance: before.balance, nonce: before.nonce });
  });

  it('refuses a non-validator, a repeated vote, a grant of a held role, a revoke of a missing one', () => {
    const { c, vote, newcomer, dso } = setup(4);
    expect(rejection(() => c.check(vote(dso, 'grant', newcomer.address, 'dso')))).toMatchObject({ code: ErrorCode.TX_UNAUTHORIZED, field: 'tx.sender' });
    const v0 = c.validators[0]!;
    c.block(vote(v0, 'grant', newcomer.address, 'dso'));
    expect(rejection(() => c.check(vote(v0, 'grant', newcomer.address, 'dso')))).toMatchObject({
      code: ErrorCode.TX_INVALID_FIELD,
      message: expect.stringMatching(/already voted/),
    });
    expect(rejection(() => c.check(vote(v0, 'grant', dso.address, 'dso')))).toMatchObject({ code: ErrorCode.TX_INVALID_FIELD, field: 'tx.body.role' });
    expect(rejection(() => c.check(vote(v0, 'revoke', newcomer.address, 'issuer')))).toMatchObject({ code: ErrorCode.TX_INVALID_FIELD, field: 'tx.body.role' });
  });

  it('a grant and a revoke are different proposals; votes for one never count for the other', () => {
    const { c, vote, roles, dso } = setup(3);
    const [v0, v1] = c.validators;
    c.block(vote(v0!, 'revoke', dso.address, 'dso'));
    c.block(vote(v1!, 'grant', dso.address, 'oracle'));
    expect(listGovernanceProposals(c.state)).toHaveLength(2);
    expect(hasRole(roles(dso.address), 'dso')).toBe(true);
  });

  it("bounds a validator's open votes (the vote beyond fails at execution) and expires stale proposals", () => {
    const { c, vote } = setup(4);
    const v0 = c.validators[0]!;
    const targets = Array.from({ length: MAX_OPEN_GOVERNANCE_VOTES + 1 }, (_, i) => testKey(i, 'role-vote-target').address);
    c.block(...targets.slice(0, MAX_OPEN_GOVERNANCE_VOTES).map((a, i) => vote(v0, 'grant', a, 'aggregator', i)));
    expect(listGovernanceProposals(c.state)).toHaveLength(MAX_OPEN_GOVERNANCE_VOTES);
    const r = c.block(vote(v0, 'grant', targets[MAX_OPEN_GOVERNANCE_VOTES]!, 'aggregator'));
    expect(r.receipts[0]).toMatchObject({ success: false, code: ErrorCode.TX_INVALID_FIELD });
    // A week later every one of them has expired: the next governance vote sweeps them.
    c.height += Math.ceil(GOVERNANCE_VOTE_TTL_MS / c.ctx().params.blockPeriodMs);
    const later = c.block(vote(v0, 'grant', targets[MAX_OPEN_GOVERNANCE_VOTES]!, 'aggregator'));
    expect(later.receipts[0]!.success).toBe(true);
    expect(later.receipts[0]!.events.filter((e) => e.type === 'governance-expired')).toHaveLength(MAX_OPEN_GOVERNANCE_VOTES);
    expect(listGovernanceProposals(c.state)).toHaveLength(1);
  });

  it('after the set shrank, a voter repeats its vote to apply what a majority of the current set already voted', () => {
    const { c, vote, roles, newcomer } = setup(4);
    const [v0, v1, v2, v3] = c.validators as [TestValidator, TestValidator, TestValidator, TestValidator];
    c.block(vote(v0, 'grant', newcomer.address, 'oracle'), vote(v1, 'grant', newcomer.address, 'oracle'));
    c.block(...[v0, v1, v2].map((v) => buildValidatorVote({ ...c.sender(v), action: 'remove', validator: v3.validator })));
    expect(getValidatorSet(c.state)!.size).toBe(3);
    // 2 of the 3 validators left voted the grant: a majority, which only v2 (against it) could otherwise apply.
    expect(hasRole(roles(newcomer.address), 'oracle')).toBe(false);
    const r = c.block(vote(v0, 'grant', newcomer.address, 'oracle'));
    expect(r.receipts[0]!.events.map((e) => e.type)).toEqual(['governance-vote', 'governance-applied', 'role-granted']);
    expect(Object.fromEntries(r.receipts[0]!.events[0]!.attributes)).toMatchObject({ votes: '2', needed: '2' });
    expect(hasRole(roles(newcomer.address), 'oracle')).toBe(true);
    expect(listGovernanceProposals(c.state)).toEqual([]);
  });

  it('a repeat vote is refused while the proposal has no majority', () => {
    const { c, vote, newcomer } = setup(4);
    const v0 = c.validators[0]!;
    c.block(vote(v0, 'grant', newcomer.address, 'oracle'), vote(c.validators[1]!, 'grant', newcomer.address, 'oracle'));
    expect(rejection(() => c.check(vote(v0, 'grant', newcomer.address, 'oracle')))).toMatchObject({
      code: ErrorCode.TX_INVALID_FIELD,
      message: expect.stringMatching(/already voted/),
    });
  });
});
