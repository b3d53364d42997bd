/**
 * JSON shapes of the Consensus issue's queries (docs/json-rpc.md: Validators, Evidence,
 * ValidatorVotes). Pure, like json-format.ts: no lookups, testable from plain values.
 */
import { formatAddress, addressFromPublicKey } from '../../core/keys.ts';
import type { ValidatorSet } from '../../core/validators.ts';
import { hex } from './json-format.ts';
import type { EvidenceView, ValidatorProposalView } from '../node-api.ts';

/** Names of consensus message kinds (as consensus/messages.ts KIND_NAMES; rpc/ may not import consensus/). */
const KIND_NAMES: readonly string[] = ['PROPOSAL', 'PREPARE', 'COMMIT', 'ROUND-CHANGE'];

export interface ValidatorJson {
  index: number;
  name: string;
  address: string;
  identityKey: string;
  blsKey: string;
}

export interface ValidatorsJson {
  /** The block this set proposes and certifies. */
  height: number;
  hash: string;
  quorum: number;
  validators: ValidatorJson[];
}

export function formatValidators(height: number, set: ValidatorSet): ValidatorsJson {
  return {
    height,
    hash: hex(set.hash),
    quorum: set.quorum,
    validators: set.validators.map((v, index) => ({ index, name: v.name, address: formatAddress(v.address), identityKey: hex(v.identityKey), blsKey: hex(v.blsKey) })),
  };
}

export interface EvidenceJson {
  id: string;
  author: string;
  height: number;
  round: number;
  kind: string;
  includedAt: number;
}

export function formatEvidence(e: EvidenceView): EvidenceJson {
  return { id: hex(e.id), author: formatAddress(e.author), height: e.height, round: e.round, kind: KIND_NAMES[e.kind] ?? String(e.kind), includedAt: e.includedAt };
}

export interface ValidatorProposalJson {
  id: string;
  action: 'add' | 'remove';
  name: string;
  address: string;
  identityKey: string;
  blsKey: string;
  voters: string[];
  /** Votes of current validators, and how many a change needs (floor(n/2)+1); null without the current set. */
  votes: number | null;
  needed: number | null;
}

export function formatProposal(p: ValidatorProposalView, current: ValidatorSet | undefined): ValidatorProposalJson {
  return {
    id: hex(p.id),
    action: p.action === 0 ? 'add' : 'remove',
    name: p.name,
    address: formatAddress(addressFromPublicKey(p.identityKey)),
    identityKey: hex(p.identityKey),
    blsKey: hex(p.blsKey),
    voters: p.voters.map(formatAddress),
    votes: current === undefined ? null : p.voters.filter((a) => current.has(a)).length,
    needed: current === undefined ? null : Math.floor(current.size / 2) + 1,
  };
}
