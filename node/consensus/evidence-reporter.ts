import { buildEvidenceTx } from '../../core/tx/evidence.ts';
import { encodeEvidence, type Evidence } from '../../core/evidence.ts';
import { evidenceId, hasEvidenceRecord } from '../../state/evidence-records.ts';
import { getAccount } from '../../state/accounts.ts';
import { tierParams } from '../../vm/index.ts';
import type { Mempool } from '../../mempool/index.ts';
import type { TxAdmission } from '../txs/admission.ts';
import type { Chain } from '../chain/chain.ts';
import type { Logger } from '../log.ts';
import type { Tx } from '../../core/tx.ts';

/**
 * Turns evidence this validator's consensus found into an `evidence` transaction from its
 * own (identity) account, so it is included in a block, verified by everyone and kept in
 * the state. Other validators reporting the same pair are refused as already included.
 */
export function evidenceReporter(deps: {
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly admission: TxAdmission;
  readonly identitySeed: Uint8Array;
  readonly address: Uint8Array;
  readonly logger: Logger;
  readonly gossip: (tx: Tx) => void;
}): (evidence: Evidence) => void {
  const report = async (evidence: Evidence): Promise<void> => {
    const { mempool, logger } = deps;
    const { world, params, chainId } = deps.chain.nextBlockContext();
    const body = encodeEvidence(evidence);
    if (hasEvidenceRecord(world, evidenceId(body))) return;
    const nonce = mempool.nextNonce(deps.address, getAccount(world, deps.address).nonce);
    const fee = tierParams(params, 'grid_balancing').baseFee;
    const tx = buildEvidenceTx({ chainId, seed: deps.identitySeed, nonce, fee: fee > params.minFee ? fee : params.minFee, evidence: body });
    try {
      await deps.admission.admit(tx);
      deps.gossip(tx);
      logger.warn({ height: evidence.first.height, round: evidence.first.round }, 'submitted equivocation evidence');
    } catch (e) {
      logger.warn({ err: (e as Error).message }, 'could not submit equivocation evidence');
    }
  };
  // One at a time: the next report's nonce follows the previous one, once it is in the mempool.
  let tail = Promise.resolve();
  return (evidence) => {
    tail = tail.then(() => report(evidence));
  };
}
