/**
 * JSON shapes of the Consensus issue's queries (docs/json-rpc.md: Validators, Evidence,
 * ValidatorVotes). Pure, like json-format.ts: no lookups, testable from plain values.
 */
import { formatAddress, addressFromPublicKey } from '../../core/keys.ts';
import type { EvidenceJson, ValidatorProposalJson, ValidatorsJson } from '../../core/rpc-json.ts';
import type { ValidatorSet } from '../../core/validators.ts';
import { KIND_NAMES } from '../../core/signed-core.ts';
import { hex } from './json-format.ts';
import type { EvidenceView, ValidatorProposalView } from '../node-api.ts';

export function formatValidators(height: number, set: ValidatorSet): ValidatorsJson {
  return {
    height,
    hash: hex(set.hash),
    quorum: set.quorum,
    validators: set.validators.map((v, index) => ({
      index,
      name: v.name,
      address: formatAddress(v.address),
      identityKey: hex(v.identityKey),
      blsKey: hex(v.blsKey),
    })),
  };
}

export function formatEvidence(e: EvidenceView): EvidenceJson {
  return {
    id: hex(e.id),
    author: formatAddress(e.author),
    height: e.height,
    round: e.round,
    kind: KIND_NAMES[e.kind] ?? String(e.kind),
    includedAt: e.includedAt,
  };
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
