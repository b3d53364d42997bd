import { ErrorCode, isJouleError, JouleError } from '../../core/errors.ts';
import { decodeTx, type Tx } from '../../core/tx.ts';
import type { Mempool } from '../../mempool/index.ts';
import { txPriority, txTier, validateTx } from '../../vm/index.ts';
import type { Chain } from '../chain/chain.ts';
import type { AdmissionMetrics } from './metrics.ts';

/**
 * The one door into the mempool, for RPC and gossip alike: decode, check against the head
 * state (signature, chain, type, fee, nonce window, balance), then pool. Every rejection
 * is counted by code and source.
 */
export class TxAdmission {
  private readonly chain: Chain;
  private readonly mempool: Mempool;
  private readonly metrics: AdmissionMetrics;

  constructor(chain: Chain, mempool: Mempool, metrics: AdmissionMetrics) {
    this.chain = chain;
    this.mempool = mempool;
    this.metrics = metrics;
  }

  /** Admits one encoded tx; throws the typed rejection. */
  submit(bytes: Uint8Array, source: string): Tx {
    try {
      const tx = decodeTx(bytes, this.chain.nextBlockContext().params.maxTxBytes);
      if (this.mempool.has(tx.hash)) throw new JouleError(ErrorCode.MEMPOOL_DUPLICATE, 'transaction is already pending', 'tx');
      this.admit(tx);
      return tx;
    } catch (e) {
      this.metrics.rejected(isJouleError(e) ? e.code : 'INTERNAL', source);
      throw e;
    }
  }

  /**
   * Admits a decoded tx, verifying it completely (every signature it carries, even one this
   * node made): block execution trusts what is in the mempool by hash and skips its
   * signatures (vm/executor.ts), so nothing enters the mempool unverified.
   */
  admit(tx: Tx): void {
    const context = this.chain.nextBlockContext();
    const { account } = validateTx(context.world, tx, context, { allowFutureNonce: true });
    this.mempool.add(tx, { priority: txPriority(tx, context.params), tier: txTier(tx), accountNonce: account.nonce });
    this.updateGauges();
  }

  updateGauges(): void {
    this.metrics.poolSize(this.mempool.size, this.mempool.bytes);
  }
}
