import type { BlockEvent } from '../core/block.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import {
  deleteGovernanceProposal,
  getGovernanceProposal,
  governanceProposalId,
  listGovernanceProposals,
  putGovernanceProposal,
  type GovernanceProposal,
} from '../state/governance-votes.ts';
import type { StateOverlay, StateReader } from '../state/overlay.ts';
import { getValidatorSet } from '../state/validator-set.ts';
import { addressText } from './accounts.ts';
import type { BlockContext } from './types.ts';
import { majority } from './validator-set-change.ts';

/**
 * Governance: an action decided by a majority of the current validators, floor(n/2)+1 of
 * them sending the same tx body (role-vote always; device-update and device-status when
 * the sender is a validator rather than the device's operator). The vote that reaches
 * the majority applies the action; until then the proposal waits in state
 * (state/governance-votes.ts), counting only votes of validators still in the set. When
 * the set shrinks, votes already cast may make a majority no vote applied: a voter's
 * repeat then applies it (checkGovernanceVoter).
 *
 * Bounds: a validator has at most MAX_OPEN_GOVERNANCE_VOTES open votes, and a proposal
 * that has not reached its majority GOVERNANCE_VOTE_TTL_MS after its first vote expires
 * (swept by the next governance vote), so a proposal that became pointless (the device
 * was revoked meanwhile, the role granted by another proposal) cannot hold a validator's
 * votes forever. The open-vote bound is enforced at execution (it needs the block time
 * to know what expired): a vote beyond it is included, fails and costs its sender a fee.
 */
export const MAX_OPEN_GOVERNANCE_VOTES = 16;
export const GOVERNANCE_VOTE_TTL_MS = 7 * 86_400_000;

/**
 * Validity of a governance vote: the sender is a current validator that has not voted for
 * this proposal yet, or repeats its vote for one that already holds the majority (the set
 * shrank since its votes, so no vote applied it): the repeat counts nothing twice and
 * applies it, where otherwise only a validator that has not voted, perhaps one against it,
 * could.
 */
export function checkGovernanceVoter(state: StateReader, tx: Tx, why: string): void {
  const set = getValidatorSet(state);
  if (set === undefined || !set.has(tx.from)) throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `${addressText(tx.from)} ${why}`, 'tx.sender');
  const p = getGovernanceProposal(state, governanceProposalId(tx.type, tx.body));
  if (p?.voters.some((v) => equalBytes(v, tx.from)) && p.voters.filter((v) => set.has(v)).length < majority(set.size)) {
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, 'this validator already voted for this proposal', 'tx.body');
  }
}

function expire(state: StateOverlay, block: BlockContext): { open: GovernanceProposal[]; events: BlockEvent[] } {
  const open: GovernanceProposal[] = [];
  const events: BlockEvent[] = [];
  for (const p of listGovernanceProposals(state)) {
    if (p.openedAtMs + GOVERNANCE_VOTE_TTL_MS > block.timestamp) {
      open.push(p);
      continue;
    }
    deleteGovernanceProposal(state, p.id);
    events.push({
      type: 'governance-expired',
      attributes: [
        ['proposal', toHex(p.id)],
        ['txType', String(p.txType)],
      ],
    });
  }
  return { open, events };
}

/**
 * Records the sender's vote for (tx.type, tx.body); when it brings the proposal to a
 * majority, deletes it and runs `apply` (the action itself, whose events follow the vote's).
 */
export function castGovernanceVote(state: StateOverlay, tx: Tx, block: BlockContext, apply: () => BlockEvent[]): BlockEvent[] {
  const set = getValidatorSet(state)!;
  const { open, events } = expire(state, block);
  const id = governanceProposalId(tx.type, tx.body);
  const mine = open.filter((p) => !equalBytes(p.id, id) && p.voters.some((v) => equalBytes(v, tx.from)));
  if (mine.length >= MAX_OPEN_GOVERNANCE_VOTES) {
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `this validator already has ${MAX_OPEN_GOVERNANCE_VOTES} open governance votes`, 'tx.body');
  }
  const existing = open.find((p) => equalBytes(p.id, id));
  const record: GovernanceProposal = existing ?? { id, txType: tx.type, body: tx.body, openedAtMs: block.timestamp, voters: [] };
  const live = record.voters.filter((v) => set.has(v));
  const voters = live.some((v) => equalBytes(v, tx.from)) ? live : [...live, tx.from];
  const needed = majority(set.size);
  events.push({
    type: 'governance-vote',
    attributes: [
      ['voter', addressText(tx.from)],
      ['proposal', toHex(id)],
      ['txType', String(tx.type)],
      ['votes', String(voters.length)],
      ['needed', String(needed)],
    ],
  });
  if (voters.length < needed) {
    putGovernanceProposal(state, { ...record, voters });
    return events;
  }
  if (existing !== undefined) deleteGovernanceProposal(state, id);
  events.push({
    type: 'governance-applied',
    attributes: [
      ['proposal', toHex(id)],
      ['txType', String(tx.type)],
    ],
  });
  events.push(...apply());
  return events;
}
