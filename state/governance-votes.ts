import { compareBytes, utf8 } from '../core/bytes.ts';
import { decode, encode, readArray, readBytes, readUint } from '../core/codec.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { sha256 } from '../core/hash.ts';
import { ADDRESS_LENGTH } from '../core/keys.ts';
import { StatePrefix, stateKey } from './keys.ts';
import type { StateOverlay, StateReader } from './overlay.ts';

/**
 * Pending governance proposals: actions a majority of validators decides (role grants and
 * revocations, device changes by governance), typed view of StatePrefix.governanceVote.
 *
 *   0x05 ++ proposalId (32) -> [txType, body, openedAtMs, [voter addresses, sorted]]
 *   0x05 ++ "index"         -> [proposalId, ...] sorted (listing never scans the key space)
 *
 * proposalId = sha256(encode([txType, body])): validators vote "the same" by sending the
 * same tx body, byte for byte (the codec has one encoding per value). Stored as sorted
 * lists: no Map iteration order ever reaches state.
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
export const GOVERNANCE_PREFIX = new Uint8Array([StatePrefix.governanceVote]);
const INDEX_KEY = stateKey(StatePrefix.governanceVote, utf8('index'));

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

function pendingIds(state: StateReader): Uint8Array[] {
  const raw = state.get(INDEX_KEY);
  if (raw === undefined) return [];
  return readArray(decode(raw, 'governanceVote.index'), 'governanceVote.index').map((v, i) => readBytes(v, `governanceVote.index[${i}]`, 32));
}

/** Every pending proposal, by ascending id. */
export function listGovernanceProposals(state: StateReader): GovernanceProposal[] {
  return pendingIds(state).map((id) => {
    const p = getGovernanceProposal(state, id);
    if (p === undefined) throw new JouleError(ErrorCode.STORE_CORRUPT, 'indexed proposal has no record', 'governanceVote.index');
    return p;
  });
}

function writeIndex(state: StateOverlay, ids: Uint8Array[]): void {
  if (ids.length === 0) state.delete(INDEX_KEY);
  else state.set(INDEX_KEY, encode([...ids].sort(compareBytes)));
}

/** Creates or updates a proposal, keeping the index in step. Voters are sorted here. */
export function putGovernanceProposal(state: StateOverlay, p: GovernanceProposal): void {
  const voters = [...p.voters].sort(compareBytes);
  state.set(governanceProposalKey(p.id), encode([p.txType, p.body, p.openedAtMs, voters]));
  const ids = pendingIds(state);
  if (!ids.some((id) => compareBytes(id, p.id) === 0)) writeIndex(state, [...ids, p.id]);
}

export function deleteGovernanceProposal(state: StateOverlay, id: Uint8Array): void {
  state.delete(governanceProposalKey(id));
  writeIndex(state, pendingIds(state).filter((x) => compareBytes(x, id) !== 0));
}
