import type { BlockEvent } from '../../core/block.ts';
import {
  arbitrationDeposit,
  arbitrationFee,
  contractValue,
  DISPUTE_DECISION_MS,
  DISPUTE_WINDOW_MS,
  INSURANCE_POOL,
  partyRole,
  scheduleValue,
  type Agreement,
  type Dispute,
  type PartyRole,
} from '../../core/agreement.ts';
import { equalBytes, toHex } from '../../core/bytes.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import {
  decodeAgreementDisputeBody,
  decodeAgreementVoteBody,
  describeAgreementDispute,
  describeAgreementVote,
  type AgreementDisputeBody,
  type AgreementVoteBody,
} from '../../core/tx/agreement-actions.ts';
import { TxType } from '../../core/tx/types.ts';
import type { Tx } from '../../core/tx.ts';
import type { ValidatorSet } from '../../core/validators.ts';
import { agreementKey, disputeKey, getDispute, putAgreement, putDispute, putTimer } from '../../state/agreements.ts';
import { accountKey } from '../../state/keys.ts';
import type { StateOverlay, StateReader } from '../../state/overlay.ts';
import { getValidatorSet, VALIDATOR_SET_KEY } from '../../state/validator-set.ts';
import { addressText, move, readAccount, unlock, writeAccount } from '../accounts.ts';
import type { ChainContext, ExecContext, TxHandler } from '../types.ts';
import { majority } from '../validator-set-change.ts';
import { checkMargins, collateralOf, other, partyAddress, take, withCollateral } from './funds.ts';
import { requireAgreement, requireParty, requirePhase } from './rules.ts';

/**
 * Types 38-39: disputes, decided by a majority of the current validators.
 * - agreement-dispute: a party (the claimant) says the other (the respondent) owes
 *   `amount`, at most the agreement's contract value; from executing, or within
 *   DISPUTE_WINDOW_MS (48 h) after settlement; one dispute per agreement. Up to `amount`
 *   of the respondent's money is frozen (its collateral first, then its balance; the
 *   frozen amount is what they covered) and the claimant locks a deposit of 1 % of
 *   `amount`, rounded up. Slots keep settling meanwhile.
 * - agreement-vote: a current validator that is not a party votes for the buyer or the
 *   seller, once. The vote that gives one side floor(m/2)+1 of the m current validators
 *   other than the parties (votes of validators that left do not count) decides, for
 *   whichever side holds it (after the set shrank, a vote for the other side, or a repeat,
 *   finds it): for the claimant, the frozen amount goes to it; for the
 *   respondent, back to the respondent's balance. The loser pays the arbitration fee, 1 % of
 *   the frozen amount rounded down, to the insurance pool (core/agreement.ts INSURANCE_POOL:
 *   the arbiters are the chain's validators, so the fee goes to the chain's pool, not to
 *   the winner): a losing claimant from its deposit, a losing respondent from its balance
 *   then its collateral, as far as they go. The deposit's rest goes back to the claimant.
 * - a dispute no majority decided DISPUTE_DECISION_MS (7 days) after it opened ends as a
 *   failed claim without a fee (expireDispute, run by the agreements' hook on its timer).
 */

const disputed = (why: string, field = 'tx.body.id') => new JouleError(ErrorCode.AGREEMENT_DISPUTED, why, field);

function checkDispute(state: StateReader, body: AgreementDisputeBody, tx: Tx, ctx: ChainContext): [Agreement, PartyRole] {
  const a = requireAgreement(state, body.id);
  const r = requireParty(a, tx);
  if (!equalBytes(body.counterparty, partyAddress(a, other(r))))
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, "is not the agreement's other party", 'tx.body.counterparty');
  requirePhase(a, ['executing', 'settled', 'disputed'], 'a dispute');
  if (a.phase === 'disputed' || getDispute(state, a.id) !== undefined) throw disputed('the agreement already had its dispute (one per agreement)');
  if (a.phase === 'settled' && ctx.timestamp !== undefined && ctx.timestamp > a.settledAtMs + DISPUTE_WINDOW_MS)
    throw new JouleError(ErrorCode.AGREEMENT_PHASE, `the dispute window closed at ${a.settledAtMs + DISPUTE_WINDOW_MS} ms`, 'tx.body.id');
  // Nothing under the agreement can be owed beyond its value (payments are at most the value,
  // penalties a share of it); a larger claim would freeze the respondent's other money for a
  // deposit of 1 % of the claim.
  const value = contractValue(scheduleValue(a, 0, ctx.params.settlementIntervalMs));
  if (body.amount > value)
    throw new JouleError(
      ErrorCode.TX_INVALID_FIELD,
      `must not exceed the agreement's contract value, ${value}: nothing under it is owed beyond that`,
      'tx.body.amount',
    );
  return [a, r];
}

function openDispute({ state, tx, body, block }: ExecContext<AgreementDisputeBody>): BlockEvent[] {
  const [a0, claimant] = checkDispute(state, body, tx, block);
  const respondent = other(claimant);
  const who = partyAddress(a0, respondent);
  // Frozen money stays in the respondent's locked funds: collateral is re-labelled, balance moves to locked.
  const fromCollateral = collateralOf(a0, respondent) < body.amount ? collateralOf(a0, respondent) : body.amount;
  const acc = readAccount(state, who);
  const rest = body.amount - fromCollateral;
  const fromBalance = acc.balance < rest ? acc.balance : rest;
  writeAccount(state, who, { ...acc, balance: acc.balance - fromBalance, locked: acc.locked + fromBalance });
  const deposit = arbitrationDeposit(body.amount);
  const mine = readAccount(state, tx.from);
  writeAccount(state, tx.from, { ...mine, balance: mine.balance - deposit, locked: mine.locked + deposit });
  const frozen = fromCollateral + fromBalance;
  const d: Dispute = {
    claimant,
    frozen,
    deposit,
    openedAtMs: block.timestamp,
    resume: a0.phase,
    votesBuyer: [],
    votesSeller: [],
    decidedFor: undefined,
    fee: 0n,
  };
  putDispute(state, a0.id, d);
  putTimer(state, block.timestamp + DISPUTE_DECISION_MS, a0, 'dispute', 0);
  const events: BlockEvent[] = [];
  let a: Agreement = { ...withCollateral(a0, respondent, collateralOf(a0, respondent) - fromCollateral), phase: 'disputed' };
  if (a0.phase === 'executing') a = checkMargins(state, a, block.timestamp, events);
  putAgreement(state, a);
  events.unshift({
    type: 'agreement-disputed',
    attributes: [
      ['agreement', toHex(a.id)],
      ['claimant', addressText(tx.from)],
      ['claimed', body.amount.toString()],
      ['frozen', frozen.toString()],
      ['deposit', deposit.toString()],
    ],
  });
  return events;
}

export const agreementDisputeHandler: TxHandler<AgreementDisputeBody> = {
  type: TxType.agreementDispute,
  name: 'agreement-dispute',
  tier: 'peer_to_peer',
  decodeBody: decodeAgreementDisputeBody,
  spend: (body) => arbitrationDeposit(body.amount),
  spendField: 'tx.body.amount',
  keys: (body) => [agreementKey(body.id), disputeKey(body.id), accountKey(body.counterparty)],
  checkState: (state, body, tx, ctx) => void checkDispute(state, body, tx, ctx),
  execute: openDispute,
  describe: describeAgreementDispute,
};

/**
 * The majority deciding a dispute: floor(m/2)+1 of the m current validators that are not
 * parties to the agreement (a party never judges its own dispute), counting only votes of
 * validators still in the set.
 */
function tally(set: ValidatorSet, a: Agreement, d: Dispute): { need: number; winner: PartyRole | undefined } {
  const need = majority(set.size - [a.buyer, a.seller].filter((p) => set.has(p)).length);
  const live = (votes: readonly Uint8Array[]) => votes.filter((v) => set.has(v)).length;
  return { need, winner: live(d.votesBuyer) >= need ? 'buyer' : live(d.votesSeller) >= need ? 'seller' : undefined };
}

/**
 * A validator votes once. Its vote again is valid only while its side holds the majority
 * and nothing decided it (the set shrank after the votes: a removed validator's vote no
 * longer counts, so the majority needed fell): the repeat counts nothing twice and
 * decides, so a dispute every remaining validator voted on still ends.
 */
function checkVote(state: StateReader, body: AgreementVoteBody, tx: Tx): [Agreement, Dispute, boolean] {
  const set = getValidatorSet(state);
  if (set === undefined || !set.has(tx.from))
    throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `${addressText(tx.from)} is not a current validator`, 'tx.sender');
  const a = requireAgreement(state, body.id);
  if (partyRole(a, tx.from) !== undefined)
    throw new JouleError(ErrorCode.TX_UNAUTHORIZED, `${addressText(tx.from)} is a party to the agreement and does not vote on its dispute`, 'tx.sender');
  if (!equalBytes(body.buyer, a.buyer)) throw new JouleError(ErrorCode.TX_INVALID_FIELD, "is not the agreement's buyer", 'tx.body.buyer');
  if (!equalBytes(body.seller, a.seller)) throw new JouleError(ErrorCode.TX_INVALID_FIELD, "is not the agreement's seller", 'tx.body.seller');
  const d = getDispute(state, a.id);
  if (d === undefined || d.decidedFor !== undefined) throw new JouleError(ErrorCode.AGREEMENT_PHASE, 'the agreement has no open dispute', 'tx.body.id');
  const voted = (votes: readonly Uint8Array[]) => votes.some((v) => equalBytes(v, tx.from));
  if (!voted(d.votesBuyer) && !voted(d.votesSeller)) return [a, d, false];
  const mine = body.decision === 'buyer' ? d.votesBuyer : d.votesSeller;
  if (!voted(mine) || tally(set, a, d).winner !== body.decision) throw disputed('this validator already voted on the dispute', 'tx.sender');
  return [a, d, true];
}

/** The agreement back in the phase it resumes (unless liquidated meanwhile). */
function resume(state: StateOverlay, a: Agreement, d: Dispute, nowMs: number, events: BlockEvent[]): Agreement {
  if (a.phase !== 'disputed') return a;
  const out: Agreement = { ...a, phase: d.resume };
  return out.phase === 'executing' ? checkMargins(state, out, nowMs, events) : out;
}

/**
 * Ends a dispute for `winner`, the loser paying `feeDue` to the insurance pool: for the
 * claimant, the frozen amount goes to it and the respondent pays the fee from its balance
 * then its collateral (as far as they go); for the respondent, the frozen amount goes back
 * to it and the fee comes out of the claimant's deposit. The deposit's rest goes back to
 * the claimant, and the agreement resumes. Returns the fee paid.
 */
function closeDispute(state: StateOverlay, a0: Agreement, d: Dispute, winner: PartyRole, feeDue: bigint, nowMs: number, events: BlockEvent[]): bigint {
  const claimant = partyAddress(a0, d.claimant);
  const respondent = partyAddress(a0, other(d.claimant));
  let a = a0;
  let fee = feeDue;
  if (winner === d.claimant) {
    move(state, respondent, claimant, d.frozen, true);
    [a, fee] = take(state, a, other(d.claimant), INSURANCE_POOL, feeDue, false);
  } else {
    unlock(state, respondent, d.frozen);
    move(state, claimant, INSURANCE_POOL, fee, true);
  }
  unlock(state, claimant, winner === d.claimant ? d.deposit : d.deposit - fee);
  putAgreement(state, resume(state, a, d, nowMs, events));
  return fee;
}

/**
 * The dispute timer (DISPUTE_DECISION_MS after it opened): a dispute still undecided ends
 * as a failed claim nobody judged, closed for the respondent without a fee (the frozen
 * amount back to the respondent, the whole deposit to the claimant); recorded as decided
 * for the respondent with fee 0, so no vote counts any more.
 */
export function expireDispute(state: StateOverlay, a: Agreement, nowMs: number, events: BlockEvent[]): void {
  const d = getDispute(state, a.id);
  if (d === undefined || d.decidedFor !== undefined) return;
  const respondent = other(d.claimant);
  closeDispute(state, a, d, respondent, 0n, nowMs, events);
  putDispute(state, a.id, { ...d, decidedFor: respondent, fee: 0n });
  events.push({
    type: 'agreement-dispute-expired',
    attributes: [
      ['agreement', toHex(a.id)],
      ['frozen', d.frozen.toString()],
      ['deposit', d.deposit.toString()],
    ],
  });
}

function decide(state: StateOverlay, a: Agreement, d: Dispute, winner: PartyRole, nowMs: number, events: BlockEvent[]): Dispute {
  const fee = closeDispute(state, a, d, winner, arbitrationFee(d.frozen), nowMs, events);
  events.push({
    type: 'agreement-dispute-decided',
    attributes: [
      ['agreement', toHex(a.id)],
      ['for', winner],
      ['frozen', d.frozen.toString()],
      ['fee', fee.toString()],
      ['pool', addressText(INSURANCE_POOL)],
    ],
  });
  return { ...d, decidedFor: winner, fee };
}

function vote({ state, tx, body, block }: ExecContext<AgreementVoteBody>): BlockEvent[] {
  const [a, d0, repeat] = checkVote(state, body, tx);
  const set = getValidatorSet(state)!;
  let d: Dispute = repeat
    ? d0
    : body.decision === 'buyer'
      ? { ...d0, votesBuyer: [...d0.votesBuyer, tx.from] }
      : { ...d0, votesSeller: [...d0.votesSeller, tx.from] };
  const events: BlockEvent[] = [
    {
      type: 'agreement-vote',
      attributes: [
        ['agreement', toHex(a.id)],
        ['validator', addressText(tx.from)],
        ['for', body.decision],
      ],
    },
  ];
  // Whichever side holds the majority wins, not only the one voted for: the set may have shrunk since the other side's votes.
  const { winner } = tally(set, a, d);
  if (winner !== undefined) d = decide(state, a, d, winner, block.timestamp, events);
  putDispute(state, a.id, d);
  return events;
}

export const agreementVoteHandler: TxHandler<AgreementVoteBody> = {
  type: TxType.agreementVote,
  name: 'agreement-vote',
  tier: 'peer_to_peer',
  decodeBody: decodeAgreementVoteBody,
  spend: () => 0n,
  keys: (body) => [agreementKey(body.id), disputeKey(body.id), VALIDATOR_SET_KEY, accountKey(body.buyer), accountKey(body.seller), accountKey(INSURANCE_POOL)],
  checkState: (state, body, tx) => void checkVote(state, body, tx),
  execute: vote,
  describe: describeAgreementVote,
};
