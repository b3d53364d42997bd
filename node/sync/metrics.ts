/** What block sync emits (node/metrics/ implements it with prom-client). */
export interface SyncMetrics {
  /** The height sync is catching up to; 0 when not behind any usable peer. */
  targetHeight(height: number): void;
  /** A peer did not serve the blocks it claimed (empty, failed, timeout, unusable). */
  peerFailure(reason: string): void;
  /** A peer served an invalid block, by typed code. */
  rejected(code: string): void;
}

export const NO_SYNC_METRICS: SyncMetrics = { targetHeight() {}, peerFailure() {}, rejected() {} };
