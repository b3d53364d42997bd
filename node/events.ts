import type { Receipt } from '../core/block.ts';
import type { IssuedCommand } from '../core/command.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import type { Tx } from '../core/tx.ts';
import type { ReadingAck } from '../rpc/node-api.ts';
import type { CommittedBlock } from './chain/chain.ts';

/** One tx of a committed block: where it landed and its receipt. */
export interface TxIncluded {
  readonly tx: Tx;
  readonly height: number;
  readonly index: number;
  readonly blockHash: Uint8Array;
  readonly receipt: Receipt;
}

/**
 * What the node announces, by event type. A type is added here when the code that emits
 * it exists: 'interval-closed' and 'market-cleared' come with the energy issues'
 * end-of-block hooks.
 */
export interface NodeEventMap {
  /** After the block is durable, once per block, in height order. */
  'block-committed': CommittedBlock;
  /** After its block's 'block-committed', once per tx, in block order. */
  'tx-included': TxIncluded;
  /**
   * A grid command this node admitted (issued here, or its anchor tx gossiped in), at once,
   * before consensus; once per command, never after its window ended (node/commands/).
   */
  'command-issued': IssuedCommand;
  /**
   * Per-reading acknowledgements of the device ingress (node/ingress/), in groups as they
   * happen (NodeApi.onReadingAck hands them out one by one).
   */
  'reading-acks': readonly ReadingAck[];
}
export type NodeEventType = keyof NodeEventMap;
export type NodeEventListener<K extends NodeEventType> = (event: NodeEventMap[K]) => void;

/** Listeners of one type at most (subscribers such as WebSocket sessions multiplex through one each). */
export const MAX_LISTENERS_PER_TYPE = 64;

/**
 * The node's typed event bus, for RPC subscriptions and, next, gRPC streams (through the
 * NodeApi contract, never node internals). Listeners run synchronously in registration
 * order, inside the commit path: they must be quick and hand slow work to their own
 * bounded queue. One that throws is reported to `onError` and skipped; the others and the
 * node carry on. At most `maxListeners` per type (RATE_LIMITED beyond).
 */
export class NodeEvents {
  private readonly listeners: { [K in NodeEventType]: Set<NodeEventListener<K>> } = {
    'block-committed': new Set(),
    'tx-included': new Set(),
    'command-issued': new Set(),
    'reading-acks': new Set(),
  };
  private readonly onError: (e: unknown, type: NodeEventType) => void;
  private readonly maxListeners: number;

  constructor(onError: (e: unknown, type: NodeEventType) => void, maxListeners = MAX_LISTENERS_PER_TYPE) {
    this.onError = onError;
    this.maxListeners = maxListeners;
  }

  /** Subscribes; returns the unsubscribe function (idempotent). */
  on<K extends NodeEventType>(type: K, listener: NodeEventListener<K>): () => void {
    const set = this.listeners[type] as Set<NodeEventListener<K>>;
    if (set.size >= this.maxListeners) {
      throw new JouleError(ErrorCode.RATE_LIMITED, `at most ${this.maxListeners} listeners of '${type}'`, 'listener');
    }
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** Whether anyone listens (so an emitter can skip building events no one reads). */
  has(type: NodeEventType): boolean {
    return this.listeners[type].size > 0;
  }

  emit<K extends NodeEventType>(type: K, event: NodeEventMap[K]): void {
    const set = this.listeners[type] as Set<NodeEventListener<K>>;
    if (set.size === 0) return;
    // A snapshot: a listener that subscribes or unsubscribes another changes the next event, not this one.
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (e) {
        this.onError(e, type);
      }
    }
  }

  /** A committed block, then each of its txs. */
  emitCommitted(b: CommittedBlock): void {
    this.emit('block-committed', b);
    if (!this.has('tx-included')) return;
    const height = b.block.header.height;
    b.txs.forEach((tx, index) => this.emit('tx-included', { tx, height, index, blockHash: b.hash, receipt: b.receipts[index]! }));
  }
}
