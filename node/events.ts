import type { CommittedBlock } from './chain/chain.ts';

type Listener = (b: CommittedBlock) => void;

/**
 * Node events (block committed) for RPC subscriptions and, later, gRPC command streams.
 * Listeners run synchronously in registration order; one that throws is isolated.
 */
export class NodeEvents {
  private readonly listeners = new Set<Listener>();
  private readonly onError: (e: unknown) => void;

  constructor(onError: (e: unknown) => void) {
    this.onError = onError;
  }

  onBlock(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emitBlock(b: CommittedBlock): void {
    for (const l of this.listeners) {
      try {
        l(b);
      } catch (e) {
        this.onError(e);
      }
    }
  }
}
