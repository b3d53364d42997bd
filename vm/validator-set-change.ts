import type { BlockEvent } from '../core/block.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { addressFromPublicKey } from '../core/keys.ts';
import { MAX_VALIDATORS, ValidatorSet, type Validator } from '../core/validators.ts';
import type { StateOverlay } from '../state/overlay.ts';
import { getValidatorSet, putValidatorSet } from '../state/validator-set.ts';
import { deleteProposal, getProposal, pendingProposalIds, putProposal, type ProposalRecord, type ValidatorProposal } from '../state/validator-votes.ts';
import { addressText } from './accounts.ts';
import type { BlockContext } from './types.ts';

/**
 * Tallying and applying validator-set proposals: the rules shared by the vote's validity
 * check and its execution, and the sweep that keeps pending proposals meaningful after
 * the set changed. Only votes of validators still in the current set count.
 */

/** A change applies once floor(n/2)+1 of the n current validators voted the same proposal. */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** Why `p` cannot apply to `set`, or undefined if it can. Also the vote's stateful validity rule. */
export function inapplicable(p: Omit<ValidatorProposal, 'blsProofOfPossession'>, set: ValidatorSet): { field: string; why: string } | undefined {
  const address = addressFromPublicKey(p.identityKey);
  if (p.action === 0) {
    if (set.has(address)) return { field: 'tx.body.identityKey', why: `${addressText(address)} is already a validator` };
    if (set.size >= MAX_VALIDATORS) return { field: 'tx.body', why: `the set already has the most validators, ${MAX_VALIDATORS}` };
    for (const v of set.validators) {
      if (equalBytes(v.blsKey, p.blsKey)) return { field: 'tx.body.blsKey', why: `BLS key already used by validator ${v.name}` };
      if (v.name === p.name) return { field: 'tx.body.name', why: `name ${JSON.stringify(p.name)} already used by validator ${addressText(v.address)}` };
    }
    return undefined;
  }
  const i = set.indexOf(address);
  if (i < 0) return { field: 'tx.body.identityKey', why: `${addressText(address)} is not a validator` };
  const member = set.at(i);
  if (!equalBytes(member.blsKey, p.blsKey)) return { field: 'tx.body.blsKey', why: `does not match the BLS key of validator ${member.name}` };
  if (member.name !== p.name) return { field: 'tx.body.name', why: `validator ${addressText(address)} is named ${JSON.stringify(member.name)}` };
  if (set.size <= 1) return { field: 'tx.body.identityKey', why: 'cannot remove the last validator' };
  return undefined;
}

/** Votes of `p` by validators still in `set` (a removed validator's vote no longer counts). */
export function liveVoters(p: ProposalRecord, set: ValidatorSet): Uint8Array[] {
  return p.voters.filter((a) => set.has(a));
}

function proposalAttributes(p: ProposalRecord): [string, string][] {
  return [
    ['proposal', toHex(p.id)],
    ['action', p.action === 0 ? 'add' : 'remove'],
    ['name', p.name],
    ['address', addressText(addressFromPublicKey(p.identityKey))],
  ];
}

/** Writes the new set (used by the node from the next height on) and drops the proposal. */
export function applyProposal(
  state: StateOverlay,
  set: ValidatorSet,
  p: ProposalRecord,
  votes: number,
  block: BlockContext,
): { set: ValidatorSet; event: BlockEvent } {
  const address = addressFromPublicKey(p.identityKey);
  const next: Validator[] =
    p.action === 0
      ? [...set.validators, { name: p.name, address, identityKey: p.identityKey, blsKey: p.blsKey }]
      : set.validators.filter((v) => !equalBytes(v.address, address));
  const nextSet = new ValidatorSet(next);
  putValidatorSet(state, nextSet);
  deleteProposal(state, p.id);
  return {
    set: nextSet,
    event: {
      type: 'validator-set-changed',
      attributes: [
        ...proposalAttributes(p),
        ['votes', String(votes)],
        ['size', String(nextSet.size)],
        ['setHash', toHex(nextSet.hash)],
        ['effectiveHeight', String(block.height + 1)],
      ],
    },
  };
}

/**
 * After a change: drop proposals that can no longer apply (e.g. adding a validator that is
 * now in the set) or have no live voter left, forget votes of removed validators, and
 * apply any proposal that now has a majority of the (possibly smaller) set. Proposals are
 * visited by ascending id and the pass restarts after each change; every restart deletes
 * a proposal, so it ends. Deterministic: ids and voters are sorted lists.
 */
export function sweepProposals(state: StateOverlay, block: BlockContext): BlockEvent[] {
  const events: BlockEvent[] = [];
  for (let restart = true; restart; ) {
    restart = false;
    for (const id of pendingProposalIds(state)) {
      const p = getProposal(state, id)!;
      const set = getValidatorSet(state)!;
      const live = liveVoters(p, set);
      const why = inapplicable(p, set)?.why ?? (live.length === 0 ? 'no voter is still a validator' : undefined);
      if (why !== undefined) {
        deleteProposal(state, id);
        events.push({ type: 'validator-proposal-dropped', attributes: [...proposalAttributes(p), ['reason', why]] });
        continue;
      }
      if (live.length >= majority(set.size)) {
        events.push(applyProposal(state, set, p, live.length, block).event);
        restart = true;
        break;
      }
      if (live.length !== p.voters.length) putProposal(state, { ...p, voters: live });
    }
  }
  return events;
}
