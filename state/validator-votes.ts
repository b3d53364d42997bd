import { compareBytes, toHex } from '../core/bytes.ts';
import { decode, encode, readArray, readBytes, readString, readUint } from '../core/codec.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { sha256 } from '../core/hash.ts';
import { ADDRESS_LENGTH } from '../core/keys.ts';
import { kindPrefix, StatePrefix, stateKey } from './keys.ts';
import type { StateOverlay, StateReader } from './overlay.ts';

/**
 * Pending validator-set proposals (typed view of StatePrefix.validatorVote).
 *
 *   0x03 ++ proposalId (32 bytes)  -> [action, name, identityKey, blsKey, pop, [voter addresses, sorted]]
 *
 * Listing is prefix iteration (ascending id); the kind is resident in memory
 * (state/resident.ts: bounded by validators x MAX_OPEN_VOTES), so admission lists it
 * synchronously, and a vote tx declares the whole prefix as its reads.
 *
 * proposalId = sha256(encode([action, name, identityKey, blsKey])): votes are "the same"
 * only if they agree on every field that ends up in the validator set (the name too, so
 * the first voter does not silently decide it). The PoP is kept for audit but is not part
 * of the id: BLS signing is deterministic, so a valid PoP for the same keys is unique.
 * Everything is stored as sorted lists: no iteration order of a Map ever reaches state.
 */

export interface ValidatorProposal {
  readonly action: 0 | 1;
  readonly name: string;
  readonly identityKey: Uint8Array;
  readonly blsKey: Uint8Array;
  readonly blsProofOfPossession: Uint8Array;
}

export interface ProposalRecord extends ValidatorProposal {
  readonly id: Uint8Array;
  /** Voter addresses, sorted ascending, distinct. */
  readonly voters: readonly Uint8Array[];
}

/** Every proposal key starts with this (what a vote declares it lists). */
export const PROPOSALS_PREFIX = kindPrefix(StatePrefix.validatorVote);

export function proposalId(p: Pick<ValidatorProposal, 'action' | 'name' | 'identityKey' | 'blsKey'>): Uint8Array {
  return sha256(encode([p.action, p.name, p.identityKey, p.blsKey]));
}

export function proposalKey(id: Uint8Array): Uint8Array {
  return stateKey(StatePrefix.validatorVote, id);
}

export function encodeProposal(r: ProposalRecord): Uint8Array {
  return encode([r.action, r.name, r.identityKey, r.blsKey, r.blsProofOfPossession, [...r.voters]]);
}

export function decodeProposal(id: Uint8Array, bytes: Uint8Array): ProposalRecord {
  const f = readArray(decode(bytes, 'validatorVote'), 'validatorVote', 6);
  const action = readUint(f[0]!, 'validatorVote.action');
  if (action !== 0 && action !== 1) throw new JouleError(ErrorCode.STORE_CORRUPT, `unknown action ${action}`, 'validatorVote.action');
  return {
    id,
    action,
    name: readString(f[1]!, 'validatorVote.name'),
    identityKey: readBytes(f[2]!, 'validatorVote.identityKey'),
    blsKey: readBytes(f[3]!, 'validatorVote.blsKey'),
    blsProofOfPossession: readBytes(f[4]!, 'validatorVote.blsProofOfPossession'),
    voters: readArray(f[5]!, 'validatorVote.voters').map((v, i) => readBytes(v, `validatorVote.voters[${i}]`, ADDRESS_LENGTH)),
  };
}

export function getProposal(state: StateReader, id: Uint8Array): ProposalRecord | undefined {
  const raw = state.get(proposalKey(id));
  return raw === undefined ? undefined : decodeProposal(id, raw);
}

/** Ids of every pending proposal, ascending. */
export function pendingProposalIds(state: StateReader): Uint8Array[] {
  const ids: Uint8Array[] = [];
  for (const [key] of state.iterate(PROPOSALS_PREFIX)) ids.push(key.subarray(1));
  return ids;
}

/** Every pending proposal with its voters, by ascending id. */
export function listProposals(state: StateReader): ProposalRecord[] {
  const out: ProposalRecord[] = [];
  for (const [key, value] of state.iterate(PROPOSALS_PREFIX)) {
    if (key.length !== 1 + 32) throw new JouleError(ErrorCode.STORE_CORRUPT, `unexpected key 0x${toHex(key)} among validator proposals`, 'validatorVote');
    out.push(decodeProposal(key.subarray(1), value));
  }
  return out;
}

/** Writes (creates or updates) a proposal. Voters are sorted here. */
export function putProposal(state: StateOverlay, r: ProposalRecord): void {
  const voters = [...r.voters].sort(compareBytes);
  state.set(proposalKey(r.id), encodeProposal({ ...r, voters }));
}

export function deleteProposal(state: StateOverlay, id: Uint8Array): void {
  state.delete(proposalKey(id));
}
