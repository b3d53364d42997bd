import type { Commit, RoundChange, Vote } from '../core/signed-core.ts';
import type { Proposal } from './messages.ts';

/** The machine's bookkeeping of one height (machine.ts): per round, per commit group, and what it prepared. */

export interface RoundState {
  proposal: Proposal | null;
  /** author hex -> vote (PREPAREs, plus the accepted proposal as its proposer's vote) */
  readonly prepares: Map<string, Vote>;
  /** author hex -> ROUND-CHANGE targeting this round (prepared certificate already checked) */
  readonly roundChanges: Map<string, RoundChange>;
}

/** The COMMITs of one (round, digest): a certificate needs a quorum of ONE round. */
export interface CommitGroup {
  readonly round: number;
  readonly digest: Uint8Array;
  readonly byAuthor: Map<string, Commit>;
}

export interface Prepared {
  readonly round: number;
  readonly digest: Uint8Array;
  readonly block: Uint8Array;
  readonly votes: readonly Vote[];
}

/** Sorts commit groups by (round, digest): the order certificates are tried in, never Map order. */
export const groupKey = (round: number, digestHex: string): string => `${round.toString().padStart(10, '0')}:${digestHex}`;
