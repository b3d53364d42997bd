/**
 * The vocabulary the parts of the simulation share: a node as the simulation holds it, the
 * events of its queue, what one run reports, and the timings the drivers mirror.
 */
import type { CommitCertificate } from '../../core/block.ts';
import type { ConsensusMessage } from '../../consensus/messages.ts';
import type { QbftMachine } from '../../consensus/machine.ts';
import { cachingCrypto, type TestValidator } from '../../consensus/testing/fixtures.ts';
import type { ConsensusEvent } from '../../consensus/types.ts';
import type { SyncEvent, SyncMachine } from '../../node/sync/sync-machine.ts';
import type { MemberHistory, ParentView, SimBlock } from './sim-chain.ts';

export const crypto = cachingCrypto();
export const TIMEOUT_MS = 100;

export interface Stored {
  readonly block: SimBlock;
  readonly cert: CommitCertificate;
}

export interface SimNode {
  readonly index: number;
  readonly peer: string;
  readonly key: TestValidator;
  readonly byzantine: boolean;
  readonly skew: number;
  up: boolean;
  incarnation: number;
  machine: QbftMachine | null;
  sync: SyncMachine | null;
  wal: { height: number; bytes: Uint8Array }[];
  readonly chain: Stored[];
  members: MemberHistory;
  /** The signing payloads of every message it wrote to its WAL (survives crashes, as the WAL does). */
  readonly persisted: Set<string>;
  readonly captured: ConsensusMessage[];
  /** Blocks received from a peer, waiting for the sync machine's `import`. */
  readonly received: Map<string, Stored[]>;
  heightSince: number;
  resendTo: number[] | null;
}

/** A node's timers and sync answers carry the incarnation that scheduled them: after a crash they are dropped. */
export type SimEvent =
  | { kind: 'deliver'; from: number; to: number; bytes: Uint8Array }
  | { kind: 'step'; node: number; inc: number; event: ConsensusEvent }
  | { kind: 'sync'; node: number; inc: number; event: SyncEvent }
  | { kind: 'held-validate'; node: number; inc: number; height: number; digest: Uint8Array; block: Uint8Array }
  | { kind: 'crash'; node: number }
  | { kind: 'restart'; node: number }
  | { kind: 'partition'; groups: number[] | null }
  | { kind: 'emergency' }
  | { kind: 'tick'; node: number }
  | { kind: 'noise' };

export interface SimResult {
  commits: number;
  evidence: number;
  crashes: number;
  refused: number;
  premature: number;
  bans: number;
  setChanges: number;
  transitions: number;
  /** Emergency transitions made while the run played out (only with `emergencies` on). */
  emergencies: number;
  recoveryMs: number;
  recoveryRuns: number;
  maxRoundAtHeal: number;
  strategy: string;
}

export function parentView(node: SimNode): ParentView {
  const top = node.chain.at(-1);
  return { height: node.chain.length, digest: top?.block.digest ?? new Uint8Array(32), header: top?.block.header ?? null };
}
