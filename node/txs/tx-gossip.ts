import { decode, encode, readArray, readBytes } from '../../core/codec.ts';
import { ErrorCode, isJouleError, JouleError } from '../../core/errors.ts';
import type { Tx } from '../../core/tx.ts';
import type { GossipSubscriber, GossipVerdict } from '../../p2p/index.ts';
import type { TxAdmission } from './admission.ts';
import { decodeOnce } from '../net/decode-once.ts';
import { mempoolTier } from './tiers.ts';

/** Most txs one gossip message carries. */
const MAX_BATCH = 1024;
/** A lone tx waits at most this long for company before it is sent. */
const FLUSH_MS = 100;

/**
 * Transactions travel between validators in batches (one gossip message per FLUSH_MS or
 * MAX_BATCH txs): per-message costs (framing, signing of the gossip envelope, message-id
 * hashing, validation dispatch) are paid once per batch, not per tx.
 *
 * A tx of the system or grid_balancing tier goes out at once, with whatever waits. Those
 * are few and urgent (a telemetry batch already carries many readings in one tx), and
 * the proposer must hold one before it builds the next block. While telemetry batches
 * waited for company, a peer admitted one 165 ms after its aggregator at the median (56 ms
 * since), and 18 % of them missed the block they were in time for (11 % since; issue
 * 10's benchmark at 420 readings/s, Dec 3).
 */
export class TxGossip implements GossipSubscriber {
  private readonly publish: (bytes: Uint8Array) => void;
  private readonly admission: TxAdmission;
  /** Told of a failure that is not a verdict on a tx (a bug): logged, never a crash. */
  private readonly onError: (e: unknown) => void;
  private buffer: Uint8Array[] = [];
  private readonly decodeBatch = decodeOnce((data) => {
    const list = readArray(decode(data, 'txBatch'), 'txBatch');
    if (list.length === 0 || list.length > MAX_BATCH)
      throw new JouleError(ErrorCode.CODEC_WRONG_TYPE, `a batch holds 1 to ${MAX_BATCH} txs, not ${list.length}`, 'txBatch');
    return list.map((t, i) => readBytes(t, `txBatch[${i}]`));
  });
  private timer: NodeJS.Timeout | undefined;
  /** Told of each tx admitted from gossip (grid commands are announced from there: node/commands/). */
  private readonly onAdmitted: (tx: Tx) => void;

  constructor(publish: (bytes: Uint8Array) => void, admission: TxAdmission, onError: (e: unknown) => void = () => {}, onAdmitted: (tx: Tx) => void = () => {}) {
    this.publish = publish;
    this.admission = admission;
    this.onError = onError;
    this.onAdmitted = onAdmitted;
  }

  /** Queues a locally admitted tx for the next batch. */
  add(tx: Tx): void {
    this.buffer.push(tx.bytes);
    if (this.buffer.length >= MAX_BATCH || sendsAtOnce(tx)) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.publish(encode(batch));
  }

  /** A typed rejection is the sender's fault; anything else thrown is this node's bug (p2p/ logs it, penalising nobody). */
  validate(data: Uint8Array): GossipVerdict {
    try {
      this.decodeBatch(data);
      return 'accept';
    } catch (e) {
      if (!isJouleError(e)) throw e;
      return 'reject';
    }
  }

  /**
   * Admits each tx as if submitted here, in batch order (admission keeps each sender's
   * order while signatures are verified off the event loop); duplicates and stale nonces
   * are normal and quiet, and so is shedding under overload (RATE_LIMITED, counted).
   */
  handle(data: Uint8Array): void {
    for (const bytes of this.decodeBatch(data)) {
      this.admission.submit(bytes, 'gossip').then(
        (tx) => this.onAdmitted(tx),
        (e: unknown) => {
          if (!isJouleError(e)) this.onError(e);
        },
      );
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function sendsAtOnce(tx: Tx): boolean {
  const tier = mempoolTier(tx.type);
  return tier === 'system' || tier === 'grid_balancing';
}
