import { commitSealBytes, type CommitCertificate } from '../core/block.ts';
import { blsSign } from '../core/keys.ts';
import { bitmapFromIndexes } from '../core/validators.ts';
import type { Mempool } from '../mempool/index.ts';
import { getAccount } from '../state/accounts.ts';
import { buildBlock, type BuildOutput } from './block-builder.ts';
import type { Chain } from './chain.ts';
import type { NodeKeys } from './keys.ts';
import type { Logger } from './log.ts';

const IDLE_POLL_MS = 50;

export interface ProducerDeps {
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly keys: NodeKeys;
  readonly address: Uint8Array;
  readonly logger: Logger;
  readonly clock: () => number;
  /** Commits a sealed block (the node's one commit path). */
  readonly commit: (built: BuildOutput, certificate: CommitCertificate) => Promise<void>;
}

/**
 * Block production when this node is the only validator: a quorum of one, so each block
 * is final as soon as its seal is written. Produces on the block period, and with an empty
 * mempool only every empty-block period.
 */
export class SoloProducer {
  private readonly deps: ProducerDeps;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(deps: ProducerDeps) {
    this.deps = deps;
  }

  start(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const { chain, mempool, clock } = this.deps;
    const { blockPeriodMs, emptyBlockPeriodMs } = chain.genesis.params;
    const parentTime = chain.head.header.timestamp;
    const due = parentTime + (mempool.size > 0 ? blockPeriodMs : Math.max(blockPeriodMs, emptyBlockPeriodMs));
    // While the pool is empty, look again soon: a tx arriving should not wait a whole empty period.
    const wait = mempool.size > 0 ? Math.max(0, due - clock()) : Math.min(Math.max(0, due - clock()), IDLE_POLL_MS);
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, wait);
  }

  private async tick(): Promise<void> {
    const { chain, mempool, keys, address, clock, logger } = this.deps;
    const { params } = chain.genesis;
    const head = chain.head;
    const now = clock();
    if (now < head.header.timestamp + params.blockPeriodMs) return;
    if (mempool.size === 0 && now < head.header.timestamp + params.emptyBlockPeriodMs) return;
    const validators = chain.validators;
    const index = validators.indexOf(address);
    if (index < 0) {
      logger.warn('this node is not in the validator set; not producing');
      return;
    }
    const nonceOf = (from: Uint8Array) => getAccount(chain.world, from).nonce;
    const built = buildBlock({
      world: chain.world,
      chainId: chain.genesis.chainId,
      params,
      parent: head.header,
      parentHash: head.hash,
      parentCertificate: head.certificate,
      validatorSet: validators,
      proposer: address,
      timestamp: Math.max(now, head.header.timestamp + 1),
      candidates: mempool.select({ maxTxs: params.maxBlockTxs, maxBytes: params.maxBlockBytes }, nonceOf),
      signaturesVerified: true,
    });
    const height = built.block.header.height;
    const certificate: CommitCertificate = {
      height,
      round: 0,
      blockHash: built.hash,
      // The aggregate of one signature is that signature.
      aggregateSignature: blsSign(keys.consensus.secretKey, commitSealBytes(chain.genesis.chainId, height, built.hash)),
      signers: bitmapFromIndexes(validators.size, [index]),
    };
    await this.deps.commit(built, certificate);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
  }
}
