import { compareBytes } from '../core/bytes.ts';
import { decode, encode, readArray, readBytes, readUint } from '../core/codec.ts';
import { sha256 } from '../core/hash.ts';
import { ADDRESS_LENGTH } from '../core/keys.ts';
import { kindPrefix, StatePrefix, stateKey } from './keys.ts';
import type { StateOverlay, StateReader } from './overlay.ts';

/**
 * Pending governance proposals: actions a majority of validators decides (role grants and
 * revocations, device changes by governance), typed view of StatePrefix.governanceVote.
 *
 *   0x05 ++ proposalId (32) -> [txType, body, openedAtMs, [voter addresses, sorted]]
 *
 * proposalId = sha256(encode([txType, body])): validators vote "the same" by sending the
 * same tx body, byte for byte (the codec has one encoding per value). Listing is prefix
 * iteration (ascending id); the kind is resident in memory (state/resident.ts: bounded by
 * validators x 16 open votes, and proposals expire, vm/governance.ts), so RPC lists it
 * synchronously, and a vote declares the whole prefix as its reads.
 */

export interface GovernanceProposal {
  readonly id: Uint8Array;
  readonly txType: number;
  /** The tx body every vote carries. */
  readonly body: Uint8Array;
  /** Block time (ms) of the first vote: proposals expire (vm/governance.ts). */
  readonly openedAtMs: number;
  /** Voter addresses, sorted ascending, distinct. */
  readonly voters: readonly Uint8Array[];
}

/** Every key of this view starts with it: a tx that lists or sweeps proposals declares it. */
export const GOVERNANCE_PREFIX = kindPrefix(StatePrefix.governanceVote);

export function governanceProposalId(txType: number, body: Uint8Array): Uint8Array {
  return sha256(encode([txType, body]));
}

export function governanceProposalKey(id: Uint8Array): Uint8Array {
  return stateKey(StatePrefix.governanceVote, id);
}

function decodeProposal(id: Uint8Array, bytes: Uint8Array): GovernanceProposal {
  const f = readArray(decode(bytes, 'governanceVote'), 'governanceVote', 4);
  return {
    id,
    txType: readUint(f[0]!, 'governanceVote.txType'),
    body: readBytes(f[1]!, 'governanceVote.body'),
    openedAtMs: readUint(f[2]!, 'governanceVote.openedAtMs'),
    voters: readArray(f[3]!, 'governanceVote.voters').map((v, i) => readBytes(v, `governanceVote.voters[${i}]`, ADDRESS_LENGTH)),
  };
}

export function getGovernanceProposal(state: StateReader, id: Uint8Array): GovernanceProposal | undefined {
  const raw = state.get(governanceProposalKey(id));
  return raw === undefined ? undefined : decodeProposal(id, raw);
}

/** Every pending proposal, by ascending id. */
export function listGovernanceProposals(state: StateReader): GovernanceProposal[] {
  const out: GovernanceProposal[] = [];
  for (const [key, value] of state.iterate(GOVERNANCE_PREFIX)) out.push(decodeProposal(key.subarray(GOVERNANCE_PREFIX.length), value));
  return out;
}

/** Creates or updates a proposal. Voters are sorted here. */
export function putGovernanceProposal(state: StateOverlay, p: GovernanceProposal): void {
  const voters = [...p.voters].sort(compareBytes);
  state.set(governanceProposalKey(p.id), encode([p.txType, p.body, p.openedAtMs, voters]));
}

export function deleteGovernanceProposal(state: StateOverlay, id: Uint8Array): void {
  state.delete(governanceProposalKey(id));
}
