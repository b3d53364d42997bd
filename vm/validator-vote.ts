import type { BlockEvent } from '../core/block.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { addressFromPublicKey, blsPublicKey, isEd25519PublicKey } from '../core/keys.ts';
import { proofOfPossessionSet } from '../core/pop.ts';
import { decodeValidatorVoteBody, type ValidatorVoteBody } from '../core/tx/validator-vote.ts';
import { TxType } from '../core/tx/types.ts';
import type { Tx } from '../core/tx.ts';
import type { StateReader } from '../state/overlay.ts';
import { getValidatorSet, VALIDATOR_SET_KEY } from '../state/validator-set.ts';
import { getProposal, listProposals, proposalId, PROPOSALS_PREFIX, putProposal, type ProposalRecord } from '../state/validator-votes.ts';
import { addressText } from './accounts.ts';
import type { ChainContext, ExecContext, TxHandler, TxSignatureSet } from './types.ts';
import { applyProposal, inapplicable, liveVoters, majority, sweepProposals } from './validator-set-change.ts';

/**
 * Type 2: a current validator votes to add or remove one validator. The change applies
 * (the set in state is rewritten) by the vote that brings a proposal to floor(n/2)+1 live
 * votes of the n current validators; the node certifies the next height with the new set.
 *
 * Tier grid_balancing: votes are rare, gated by membership, and governing who certifies
 * the chain; they must not queue behind peer-to-peer traffic when an operator needs to
 * remove a faulty validator. The tier's higher base fee costs a validator nothing real.
 *
 * Validity (a vote failing any of these is never in a block, so it costs no fee):
 * sender in the current set (TX_UNAUTHORIZED); add: valid keys, a proof of possession
 * (core/pop.ts, the same message genesis checks), not already a member, BLS key and name
 * unused; remove: the keys and name of a member, not the last one; no second vote by the
 * same validator for the same proposal (TX_INVALID_FIELD: a repeat would change nothing
 * and would only cost its sender a fee); at most MAX_OPEN_VOTES open votes per validator,
 * so a faulty validator cannot grow the pending set without bound.
 */
export const MAX_OPEN_VOTES = 16;

const invalid = (field: string, why: string) => new JouleError(ErrorCode.TX_INVALID_FIELD, why, field);

function validate(body: ValidatorVoteBody): void {
  if (body.action !== 0) return; // a remove names an existing member; checkState matches its keys
  if (!isEd25519PublicKey(body.identityKey)) throw invalid('tx.body.identityKey', 'is not a valid Ed25519 public key');
  if (blsPublicKey(body.blsKey) === undefined) throw invalid('tx.body.blsKey', 'is not a valid BLS12-381 G1 public key');
}

/** An add carries the new key's proof of possession (the message genesis checks, core/pop.ts); a remove carries none. */
function signatureSets(body: ValidatorVoteBody, _tx: Tx, ctx: ChainContext): TxSignatureSet[] {
  if (body.action !== 0) return [];
  return [
    {
      set: proofOfPossessionSet(ctx.chainId, body.blsKey, body.identityKey, body.blsProofOfPossession),
      field: 'tx.body',
      message: 'a signature inside the body does not verify (blsProofOfPossession)',
    },
  ];
}

function checkState(state: StateReader, body: ValidatorVoteBody, tx: Tx): void {
  const set = getValidatorSet(state);
  if (set === undefined || !set.has(tx.from)) {
    throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `${addressText(tx.from)} is not a current validator; only validators vote`, 'tx.sender');
  }
  const bad = inapplicable(body, set);
  if (bad !== undefined) throw invalid(bad.field, bad.why);
  const open = listProposals(state);
  const id = proposalId(body);
  const mine = open.filter((p) => p.voters.some((v) => equalBytes(v, tx.from)));
  if (mine.some((p) => equalBytes(p.id, id))) throw invalid('tx.body', 'this validator already voted for this proposal');
  if (mine.length >= MAX_OPEN_VOTES) throw invalid('tx.body', `this validator already has ${MAX_OPEN_VOTES} open votes`);
}

function execute({ state, tx, body, block }: ExecContext<ValidatorVoteBody>): BlockEvent[] {
  const set = getValidatorSet(state)!;
  const id = proposalId(body);
  const existing = getProposal(state, id);
  const record: ProposalRecord = existing ?? { id, ...body, voters: [] };
  const voters = [...liveVoters(record, set), tx.from];
  const needed = majority(set.size);
  const events: BlockEvent[] = [
    {
      type: 'validator-vote',
      attributes: [
        ['voter', addressText(tx.from)],
        ['proposal', toHex(id)],
        ['action', body.action === 0 ? 'add' : 'remove'],
        ['name', body.name],
        ['address', addressText(addressFromPublicKey(body.identityKey))],
        ['votes', String(voters.length)],
        ['needed', String(needed)],
      ],
    },
  ];
  if (voters.length < needed) {
    putProposal(state, { ...record, voters });
    return events;
  }
  events.push(applyProposal(state, set, { ...record, voters }, voters.length, block).event);
  events.push(...sweepProposals(state, block));
  return events;
}

export const validatorVoteHandler: TxHandler<ValidatorVoteBody> = {
  type: TxType.validatorVote,
  name: 'validator-vote',
  tier: 'grid_balancing',
  decodeBody: decodeValidatorVoteBody,
  validate,
  signatureSets,
  spend: () => 0n,
  // The set, and every pending proposal: execution may apply one and sweep the rest.
  keys: () => [VALIDATOR_SET_KEY],
  prefixes: () => [PROPOSALS_PREFIX],
  checkState,
  execute,
  describe: (body) => ({
    action: body.action === 0 ? 'add' : 'remove',
    name: body.name,
    address: addressText(addressFromPublicKey(body.identityKey)),
    identityKey: `0x${toHex(body.identityKey)}`,
    blsKey: `0x${toHex(body.blsKey)}`,
    blsProofOfPossession: body.blsProofOfPossession.length === 0 ? null : `0x${toHex(body.blsProofOfPossession)}`,
    proposal: `0x${toHex(proposalId(body))}`,
  }),
};
