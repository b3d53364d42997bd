import { buildEvidenceTx } from '../../core/tx-bodies.ts';
import { encodeEvidence, type Evidence } from '../../consensus/evidence.ts';
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
  return (evidence) => {
    const { chain, mempool, logger } = deps;
    const body = encodeEvidence(evidence);
    if (hasEvidenceRecord(chain.world, evidenceId(body))) return;
    const nonce = mempool.nextNonce(deps.address, getAccount(chain.world, deps.address).nonce);
    const fee = tierParams(chain.genesis.params, 'grid_balancing').baseFee;
    const tx = buildEvidenceTx({ chainId: chain.genesis.chainId, seed: deps.identitySeed, nonce, fee: fee > chain.genesis.params.minFee ? fee : chain.genesis.params.minFee, evidence: body });
    try {
      deps.admission.admit(tx);
      deps.gossip(tx);
      logger.warn({ height: evidence.first.height, round: evidence.first.round }, 'submitted equivocation evidence');
    } catch (e) {
      logger.warn({ err: (e as Error).message }, 'could not submit equivocation evidence');
    }
  };
}
