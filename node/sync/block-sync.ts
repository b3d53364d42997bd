import { performance } from 'node:perf_hooks';
import { isFatal, isJouleError } from '../../core/errors.ts';
import type { CommitCertificate } from '../../core/block.ts';
import type { P2PNode } from '../../p2p/index.ts';
import type { ExecutedBlock } from '../blocks/block-builder.ts';
import { decodeCertifiedBlock, importCertified } from '../blocks/block-import.ts';
import type { Chain } from '../chain/chain.ts';
import type { Logger } from '../log.ts';
import type { SerialQueue } from '../serial-queue.ts';
import type { SyncMetrics } from './metrics.ts';
import { SyncMachine, type SyncAction, type SyncConfig, type SyncEvent } from './sync-machine.ts';

/** Request timeout above p2p's own 10 s deadline, so a slow answer ends as its error first. */
export const DEFAULT_SYNC_CONFIG: SyncConfig & { readonly tickMs: number } = {
  maxBlocksPerRequest: 64,
  statusIntervalMs: 1000,
  requestTimeoutMs: 12_000,
  backoffMs: 1000,
  maxBackoffMs: 30_000,
  tickMs: 250,
};

export interface SyncDeps {
  readonly chain: Chain;
  /** Only what sync uses; `P2PNode` satisfies it. */
  readonly p2p: Pick<P2PNode, 'peers' | 'requestStatus' | 'requestBlocks' | 'penalize'>;
  readonly queue: SerialQueue;
  readonly logger: Logger;
  readonly metrics: SyncMetrics;
  readonly commit: (executed: ExecutedBlock, certificate: CommitCertificate) => Promise<void>;
  /** Called inside the queue after blocks were imported (consensus moves to the new height). */
  readonly afterImport: () => Promise<void>;
  /** Overrides of DEFAULT_SYNC_CONFIG (tests). `tickMs` paces peer reconciliation, timeouts and polls. */
  readonly config?: Partial<SyncConfig & { readonly tickMs: number }>;
}

type ImportResult = { readonly invalid?: string };

/**
 * Block sync: a node that is behind (new, restarted, partitioned) downloads certified blocks
 * from its peers and imports each only after checking its certificate and re-executing it.
 * Which peer to ask, and what to make of its answer, is decided by the pure SyncMachine
 * (node/sync/sync-machine.ts: a claim is believed only when blocks arrive; a peer that does
 * not serve is excluded with backoff and the next one asked at once). This shell owns the
 * timer, the p2p calls and the serial chain queue, turns answers into events and executes
 * the machine's actions. A peer that serves a forged certificate or an invalid block is
 * penalised through p2p (disconnected and refused for a while).
 */
export class BlockSync {
  private readonly deps: SyncDeps;
  private readonly machine: SyncMachine;
  private readonly tickMs: number;
  private readonly maxItemBytes: number;
  /** Peers the machine has been told about (reconciled with p2p.peers() on every tick). */
  private readonly known = new Set<string>();
  /** The items of the block answer being stepped, taken by its `import` action. */
  private readonly received = new Map<string, Uint8Array[]>();
  private importing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private idle: { promise: Promise<void>; resolve: () => void } | undefined;
  private catchingUpSince: number | undefined;

  constructor(deps: SyncDeps) {
    this.deps = deps;
    const cfg = { ...DEFAULT_SYNC_CONFIG, ...deps.config };
    this.machine = new SyncMachine(cfg);
    this.tickMs = cfg.tickMs;
    this.maxItemBytes = deps.chain.genesis.params.maxBlockBytes + 64 * 1024;
  }

  /** The height sync is catching up to, null when not behind any usable peer. */
  get target(): number | null {
    const t = this.machine.target;
    return t !== null && t > this.deps.chain.height ? t : null;
  }

  get syncing(): boolean {
    return this.target !== null;
  }

  start(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.tick();
  }

  /**
   * Polls every peer's status now (something says we are behind) and resolves once sync is
   * idle: nothing requested or importing. Timeouts advance only while started.
   */
  trigger(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.reconcilePeers();
    this.step({ type: 'behind', now: performance.now(), height: this.deps.chain.height });
    if (this.stopped || this.machine.idle) return Promise.resolve();
    if (this.idle === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.idle = { promise, resolve };
    }
    return this.idle.promise;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.settleIdle();
    await this.importing;
  }

  private tick(): void {
    this.reconcilePeers();
    this.step({ type: 'tick', now: performance.now(), height: this.deps.chain.height });
  }

  private reconcilePeers(): void {
    const connected = new Set(this.deps.p2p.peers());
    for (const peer of [...this.known].sort()) {
      if (connected.has(peer)) continue;
      this.known.delete(peer);
      this.step({ type: 'peer-disconnected', peer, now: performance.now() });
    }
    for (const peer of [...connected].sort()) {
      if (this.known.has(peer)) continue;
      this.known.add(peer);
      this.step({ type: 'peer-connected', peer, now: performance.now() });
    }
  }

  private step(e: SyncEvent): void {
    if (this.stopped) return;
    for (const a of this.machine.step(e)) this.execute(a);
    const target = this.target;
    this.deps.metrics.targetHeight(target ?? 0);
    this.logProgress(target);
    if (this.machine.idle) this.settleIdle();
  }

  private settleIdle(): void {
    const idle = this.idle;
    this.idle = undefined;
    idle?.resolve();
  }

  private execute(a: SyncAction): void {
    const { p2p, logger, metrics } = this.deps;
    const now = () => performance.now();
    switch (a.type) {
      case 'request-status':
        // Through a microtask, so an answer (or a synchronous throw) never re-enters step.
        void Promise.resolve()
          .then(() => p2p.requestStatus(a.peer))
          .then(
            (s) => this.step({ type: 'status', peer: a.peer, height: s.height, now: now() }),
            (e: unknown) => {
              logger.debug({ peer: a.peer, err: (e as Error).message }, 'sync: status request failed');
              this.step({ type: 'status-failed', peer: a.peer, now: now() });
            },
          );
        return;
      case 'request-blocks':
        logger.debug({ peer: a.peer, from: a.from, to: a.to }, 'sync: requesting blocks');
        void Promise.resolve()
          .then(() => p2p.requestBlocks(a.peer, a.from, a.to))
          .then(
            (items) => {
              this.received.set(a.peer, items);
              this.step({ type: 'blocks', peer: a.peer, from: a.from, count: items.length, now: now() });
              this.received.delete(a.peer); // not taken by an import: a stale answer
            },
            (e: unknown) => {
              logger.info({ peer: a.peer, err: (e as Error).message }, 'sync: block request failed');
              this.step({ type: 'blocks-failed', peer: a.peer, now: now() });
            },
          );
        return;
      case 'import': {
        const items = this.received.get(a.peer) ?? [];
        this.received.delete(a.peer);
        this.importing = this.importFrom(a.peer, items);
        return;
      }
      case 'penalize':
        if (a.ban) {
          metrics.rejected(a.reason);
          void p2p
            .penalize(a.peer, `invalid block in sync: ${a.reason}`)
            .catch((e: unknown) => logger.debug({ peer: a.peer, err: (e as Error).message }, 'sync: penalize failed'));
        } else {
          metrics.peerFailure(a.reason);
          logger.info({ peer: a.peer, reason: a.reason }, 'sync: peer did not serve the blocks it claimed; excluded for a while, asking the next peer');
        }
        return;
    }
  }

  private async importFrom(peer: string, items: Uint8Array[]): Promise<void> {
    const { chain, queue, logger } = this.deps;
    const result = await queue.push(async (): Promise<ImportResult> => {
      const before = chain.height;
      let invalid: string | undefined;
      try {
        for (const bytes of items) {
          const item = decodeCertifiedBlock(bytes, this.maxItemBytes);
          if ((await importCertified(chain, item, this.deps.commit)) === 'ahead') break;
        }
      } catch (e) {
        // This node cannot compute the block (an end-of-block hook failed): not the peer's
        // fault, and no reason to go on; the queue hands it to the node, which halts.
        if (isFatal(e)) throw e;
        if (isJouleError(e)) {
          invalid = e.code;
          logger.warn({ peer, code: e.code, err: e.message }, 'sync: peer served an invalid block; penalising it');
        } else {
          // Our failure (storage), not the peer's: no ban; the machine sees only what got imported.
          logger.error({ peer, err: e }, 'sync: import failed');
        }
      }
      if (chain.height > before) {
        await this.deps.afterImport();
        logger.info({ peer, height: chain.height, target: this.target }, 'sync: progress');
      }
      return invalid === undefined ? {} : { invalid };
    });
    const now = performance.now();
    if (result?.invalid !== undefined) this.step({ type: 'import-invalid', peer, reason: result.invalid, height: chain.height, now });
    else this.step({ type: 'imported', peer, height: chain.height, now });
  }

  private logProgress(target: number | null): void {
    const { chain, logger } = this.deps;
    if (target !== null && this.catchingUpSince === undefined) {
      this.catchingUpSince = performance.now();
      logger.info({ from: chain.height + 1, target }, 'sync: catching up');
    } else if (target === null && this.catchingUpSince !== undefined) {
      logger.info({ height: chain.height, seconds: (performance.now() - this.catchingUpSince) / 1000 }, 'sync: caught up (no usable peer ahead)');
      this.catchingUpSince = undefined;
    }
  }
}
