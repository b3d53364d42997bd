/** What the composition root (node/node.ts) emits itself: the commit path, peers, gossip refusals. */
export interface NodeMetrics {
  /** The head's height (at start; afterwards through blockCommitted). */
  height(height: number): void;
  /** `previousTimestamp` is the parent's (ms); undefined for the first block after genesis. */
  blockCommitted(b: { height: number; timestamp: number; txCount: number; previousTimestamp?: number | undefined }): void;
  peers(count: number): void;
  /** A gossiped input refused or shed, by typed code. */
  rejected(code: string, source: 'gossip'): void;
  /** The disk refused a read or write (core/storage-error.ts StorageOp). */
  storageError(op: string): void;
}

export const NO_NODE_METRICS: NodeMetrics = { height() {}, blockCommitted() {}, peers() {}, rejected() {}, storageError() {} };
