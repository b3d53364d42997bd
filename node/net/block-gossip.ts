import type { CommitCertificate } from '../../core/block.ts';
import { ErrorCode, isFatal, isJouleError, type JouleError } from '../../core/errors.ts';
import type { GossipSubscriber, GossipVerdict } from '../../p2p/index.ts';
import type { ExecutedBlock } from '../blocks/block-builder.ts';
import { decodeCertifiedBlock, importCertified, type CertifiedBlock } from '../blocks/block-import.ts';
import type { Chain } from '../chain/chain.ts';
import type { SerialQueue } from '../serial-queue.ts';
import { decodeOnce } from './decode-once.ts';

/** Gossiped blocks waiting in the serial queue at most; beyond, they are shed (sync fetches them). */
const MAX_QUEUED_BLOCKS = 256;

export interface BlockGossipDeps {
  readonly chain: Chain;
  readonly queue: SerialQueue;
  /** The node's one commit path. */
  readonly commit: (executed: ExecutedBlock, certificate: CommitCertificate) => Promise<void>;
  /** A block was imported (consensus moves to the new height). */
  readonly imported: () => Promise<void>;
  /** A block beyond the next one arrived: sync should catch up. */
  readonly ahead: () => void;
  /** A block shed, or refused by typed code. */
  readonly rejected: (code: string) => void;
  /** The sender served an invalid block (the typed reason): penalise it. */
  readonly penalize: (peer: string, error: JouleError) => Promise<void>;
  /** A failure that is not the block's (this node's bug or storage): logged, nobody penalised. */
  readonly failed: (peer: string, error: unknown) => void;
}

/**
 * The certified-blocks topic, for observers: validators commit through consensus and catch
 * up through sync (decoding every peer's copy of every block would cost them dearly).
 * `validate` decodes (once, for `handle` too) and accepts blocks above the head; `handle`
 * imports them through the serial queue with the same checks as sync (block-import.ts).
 */
export class BlockGossip implements GossipSubscriber {
  private readonly deps: BlockGossipDeps;
  private readonly decode: (data: Uint8Array) => CertifiedBlock;

  constructor(deps: BlockGossipDeps) {
    this.deps = deps;
    this.decode = decodeOnce((data) => decodeCertifiedBlock(data, deps.chain.genesis.params.maxBlockBytes + 64 * 1024));
  }

  validate(data: Uint8Array): GossipVerdict {
    let item: CertifiedBlock;
    try {
      item = this.decode(data);
    } catch (e) {
      if (!isJouleError(e)) throw e;
      return 'reject';
    }
    return item.block.header.height > this.deps.chain.height ? 'accept' : 'ignore';
  }

  handle(data: Uint8Array, from: string): void {
    const item = this.decode(data);
    // Shed under overload: sync fetches whatever gossip could not deliver.
    if (!this.deps.queue.offer(() => this.import(item, from), MAX_QUEUED_BLOCKS)) this.deps.rejected(ErrorCode.RATE_LIMITED);
  }

  private async import(item: CertifiedBlock, from: string): Promise<void> {
    const { deps } = this;
    try {
      const outcome = await importCertified(deps.chain, item, deps.commit);
      if (outcome === 'imported') await deps.imported();
      if (outcome === 'ahead') deps.ahead();
    } catch (e) {
      if (isFatal(e)) throw e; // ours, not the sender's: the queue halts the node
      if (!isJouleError(e)) {
        deps.failed(from, e);
        return;
      }
      deps.rejected(e.code);
      await deps.penalize(from, e);
    }
  }
}
