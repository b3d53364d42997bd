import { isJouleError } from '../core/errors.ts';
import type { P2PNode } from '../p2p/index.ts';
import type { JouleMetrics } from '../rpc/metrics.ts';
import { decodeCertifiedBlock, importCertified } from './block-import.ts';
import type { ExecutedBlock } from './block-builder.ts';
import type { CommitCertificate } from '../core/block.ts';
import type { Chain } from './chain.ts';
import type { Logger } from './log.ts';
import type { SerialQueue } from './serial-queue.ts';

const POLL_MS = 1000;

export interface SyncDeps {
  readonly chain: Chain;
  readonly p2p: P2PNode;
  readonly queue: SerialQueue;
  readonly logger: Logger;
  readonly metrics: JouleMetrics;
  readonly commit: (executed: ExecutedBlock, certificate: CommitCertificate) => Promise<void>;
  /** Called inside the queue after blocks were imported (consensus moves to the new height). */
  readonly afterImport: () => Promise<void>;
}

/**
 * Block sync: a node that is behind (new, restarted, partitioned) asks its peers for
 * their heads, downloads ranges from the highest one, and imports each block only after
 * checking its certificate and re-executing it. A peer that serves a forged certificate
 * or an invalid block is penalised (disconnected and refused for a while).
 */
export class BlockSync {
  private readonly deps: SyncDeps;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  target: number | null = null;

  constructor(deps: SyncDeps) {
    this.deps = deps;
  }

  get syncing(): boolean {
    return this.target !== null && this.target > this.deps.chain.height;
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        void this.trigger().finally(loop);
      }, POLL_MS);
    };
    void this.trigger().finally(loop);
  }

  /** Runs one sync pass unless one is running. */
  trigger(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async bestPeer(): Promise<{ peer: string; height: number } | undefined> {
    const { p2p, logger } = this.deps;
    const answers = await Promise.all(
      p2p.peers().map(async (peer) => {
        try {
          return { peer, height: (await p2p.requestStatus(peer)).height };
        } catch (e) {
          logger.debug({ peer, err: (e as Error).message }, 'status request failed');
          return undefined;
        }
      }),
    );
    let best: { peer: string; height: number } | undefined;
    for (const a of answers) if (a !== undefined && (best === undefined || a.height > best.height)) best = a;
    return best;
  }

  private async pass(): Promise<void> {
    const { chain, p2p, queue, logger, metrics } = this.deps;
    const best = await this.bestPeer();
    if (best === undefined || best.height <= chain.height) {
      this.target = null;
      metrics.syncTarget.set(0);
      return;
    }
    this.target = best.height;
    metrics.syncTarget.set(best.height);
    const startHeight = chain.height;
    const started = Date.now();
    logger.info({ from: chain.height + 1, target: best.height, peer: best.peer }, 'sync: catching up');
    while (!this.stopped && chain.height < best.height) {
      const from = chain.height + 1;
      let items: Uint8Array[];
      try {
        items = await p2p.requestBlocks(best.peer, from, best.height);
      } catch (e) {
        logger.warn({ peer: best.peer, err: (e as Error).message }, 'sync: block request failed');
        return;
      }
      if (items.length === 0) return;
      const ok = await queue.push(async () => {
        for (const bytes of items) {
          try {
            const item = decodeCertifiedBlock(bytes, chain.genesis.params.maxBlockBytes + 64 * 1024);
            const outcome = await importCertified(chain, item, this.deps.commit);
            if (outcome === 'ahead') return false;
          } catch (e) {
            const code = isJouleError(e) ? e.code : 'INTERNAL';
            logger.warn({ peer: best.peer, code, err: (e as Error).message }, 'sync: peer served an invalid block; penalising it');
            metrics.rejections.inc({ code, source: 'sync' });
            await p2p.penalize(best.peer, `invalid block in sync: ${code}`);
            return false;
          }
        }
        await this.deps.afterImport();
        return true;
      });
      if (ok !== true) return;
      const done = chain.height - startHeight;
      const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
      logger.info({ height: chain.height, target: best.height, blocksPerSecond: Math.round(rate) }, 'sync: progress');
    }
    if (chain.height >= best.height) logger.info({ height: chain.height, seconds: (Date.now() - started) / 1000 }, 'sync: caught up');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
  }
}
