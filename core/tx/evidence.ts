import { ErrorCode, JouleError } from '../errors.ts';
import type { Tx } from '../tx.ts';
import { signBody, type SenderArgs } from './sign.ts';
import { TxType } from './types.ts';

/**
 * The evidence tx body is core/evidence.ts encodeEvidence(evidence) exactly: two small
 * signed consensus cores. Anything larger is not evidence.
 */
export const MAX_EVIDENCE_BODY_BYTES = 2048;

export interface BuildEvidenceTxArgs extends SenderArgs {
  /** core/evidence.ts encodeEvidence(evidence): the canonical pair. */
  readonly evidence: Uint8Array;
}

/** Builds and signs an evidence tx; any funded account may submit one. */
export function buildEvidenceTx(args: BuildEvidenceTxArgs): Tx {
  if (args.evidence.length === 0 || args.evidence.length > MAX_EVIDENCE_BODY_BYTES) {
    throw new JouleError(ErrorCode.TX_INVALID_FIELD, `evidence must be 1..${MAX_EVIDENCE_BODY_BYTES} bytes`, 'tx.body');
  }
  return signBody(args, TxType.evidence, args.evidence);
}
