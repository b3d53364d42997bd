import { partyRole, type Agreement, type AgreementPhase, type PartyRole } from '../../core/agreement.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import type { Tx } from '../../core/tx.ts';
import { getAgreement } from '../../state/agreements.ts';
import type { StateReader } from '../../state/overlay.ts';

/** AGREEMENT_UNKNOWN naming tx.body.id when no agreement has the id. */
export function requireAgreement(state: StateReader, id: Uint8Array): Agreement {
  const a = getAgreement(state, id);
  if (a === undefined) throw new JouleError(ErrorCode.AGREEMENT_UNKNOWN, 'no agreement has this id', 'tx.body.id');
  return a;
}

/** The sender's role in the agreement; AGREEMENT_NOT_PARTY naming tx.sender otherwise. */
export function requireParty(a: Agreement, tx: Pick<Tx, 'from'>): PartyRole {
  const r = partyRole(a, tx.from);
  if (r === undefined) throw new JouleError(ErrorCode.AGREEMENT_NOT_PARTY, 'the sender is neither the buyer nor the seller', 'tx.sender');
  return r;
}

/** AGREEMENT_PHASE naming tx.body.id unless the agreement is in one of `phases`. */
export function requirePhase(a: Agreement, phases: readonly AgreementPhase[], step: string): void {
  if (!phases.includes(a.phase))
    throw new JouleError(ErrorCode.AGREEMENT_PHASE, `the agreement is ${a.phase}; ${step} needs it ${phases.join(' or ')}`, 'tx.body.id');
}
