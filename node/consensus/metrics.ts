/** What the consensus driver emits (node/metrics/ implements it with prom-client). */
export interface ConsensusMetrics {
  /** The QBFT round the machine is in at the current height. */
  round(round: number): void;
  roundChange(): void;
  /** Equivocation evidence observed. */
  evidence(): void;
  /** A consensus message or proposed block refused (or shed), by typed code. */
  rejected(code: string, source: 'consensus' | 'proposal'): void;
  /** Seconds one step of a height's critical path took: building this node's proposal, executing another's, storing a decided block. */
  blockStage(stage: 'build' | 'verify' | 'commit', seconds: number): void;
}

export const NO_CONSENSUS_METRICS: ConsensusMetrics = { round() {}, roundChange() {}, evidence() {}, rejected() {}, blockStage() {} };
