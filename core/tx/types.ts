/**
 * Transaction type ids. The VM's registry (vm/registry.ts) maps each id to its validation
 * and execution; each body codec clients need lives beside this file (transfer.ts,
 * validator-vote.ts, evidence.ts). Ids are part of the signed envelope, so they are never
 * reused or renumbered.
 */
export const TxType = {
  transfer: 1,
  /** Validator set change by vote of the current validators (vm/validator-vote.ts). */
  validatorVote: 2,
  /** Equivocation evidence: body = core/evidence.ts encodeEvidence (vm/evidence.ts). */
  evidence: 3,
  // 16..31 energy ledger (telemetry batch, mint, energy transfer, retire), 32..47 markets.
} as const;
export type TxTypeId = (typeof TxType)[keyof typeof TxType];
