import { compareBytes, utf8 } from '../core/bytes.ts';
import { decode, encode, readArray, readBytes, readString, readUint } from '../core/codec.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { sha256 } from '../core/hash.ts';
import { ADDRESS_LENGTH } from '../core/keys.ts';
import { StatePrefix, stateKey } from './keys.ts';
import type { StateOverlay, StateReader } from './overlay.ts';

/**
 * Pending validator-set proposals (typed view of StatePrefix.validatorVote).
 *
 *   0x03 ++ proposalId (32 bytes)  -> [action, name, identityKey, blsKey, pop, [voter addresses, sorted]]
 *   0x03 ++ "index"                -> [proposalId, ...] sorted (so listing never scans the key space)
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

const INDEX_KEY = stateKey(StatePrefix.validatorVote, utf8('index'));

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
  const raw = state.get(INDEX_KEY);
  if (raw === undefined) return [];
  return readArray(decode(raw, 'validatorVote.index'), 'validatorVote.index').map((v, i) => readBytes(v, `validatorVote.index[${i}]`, 32));
}

/** Every pending proposal with its voters, by ascending id. */
export function listProposals(state: StateReader): ProposalRecord[] {
  return pendingProposalIds(state).map((id) => {
    const p = getProposal(state, id);
    if (p === undefined) throw new JouleError(ErrorCode.STORE_CORRUPT, 'indexed proposal has no record', 'validatorVote.index');
    return p;
  });
}

function writeIndex(state: StateOverlay, ids: Uint8Array[]): void {
  if (ids.length === 0) state.delete(INDEX_KEY);
  else state.set(INDEX_KEY, encode([...ids].sort(compareBytes)));
}

/** Writes (creates or updates) a proposal and keeps the index in step. Voters are sorted here. */
export function putProposal(state: StateOverlay, r: ProposalRecord): void {
  const voters = [...r.voters].sort(compareBytes);
  state.set(proposalKey(r.id), encodeProposal({ ...r, voters }));
  const ids = pendingProposalIds(state);
  if (!ids.some((id) => compareBytes(id, r.id) === 0)) writeIndex(state, [...ids, r.id]);
}

export function deleteProposal(state: StateOverlay, id: Uint8Array): void {
  state.delete(proposalKey(id));
  writeIndex(state, pendingProposalIds(state).filter((x) => compareBytes(x, id) !== 0));
}
