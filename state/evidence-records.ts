import { readU64be } from '../core/bytes.ts';
import { decode, encode, readArray, readBytes, readUint } from '../core/codec.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { HASH_LENGTH, sha256 } from '../core/hash.ts';
import { ADDRESS_LENGTH } from '../core/keys.ts';
import { bucketKey, EvidenceBucket, orderedId, StatePrefix } from './keys.ts';
import type { Access } from './loaded-state.ts';
import type { StateOverlay, StateReader } from './overlay.ts';

/**
 * Included equivocation evidence (typed view of StatePrefix.evidence; buckets in state/keys.ts).
 *
 *   0x04 0x01 ++ sha256(evidence body)  -> u64be(seq)                      "already included?"
 *   0x04 0x02 ++ u64be(seq)             -> [id, height, round, kind, author, includedAt]
 *   0x04 0x03                           -> number of records
 *
 * Evidence is canonical, so one pair has one id. Records are listed in inclusion order by
 * iterating the by-sequence bucket from a sequence number: no hand-made index, and every
 * write of an inclusion is blind (it reads only the id and the count), so an evidence tx
 * declares exactly the keys it reads.
 */

export interface EvidenceRecord {
  /** Height, round and kind (0 PROPOSAL, 1 PREPARE, 2 COMMIT, 3 ROUND-CHANGE) of the two messages. */
  readonly height: number;
  readonly round: number;
  readonly kind: number;
  /** Address of the validator that signed both. */
  readonly author: Uint8Array;
  /** Height of the block that included the evidence tx. */
  readonly includedAt: number;
}

export interface EvidenceEntry extends EvidenceRecord {
  readonly id: Uint8Array;
}

export const EVIDENCE_COUNT_KEY = bucketKey(StatePrefix.evidence, EvidenceBucket.count);
const BY_SEQ = bucketKey(StatePrefix.evidence, EvidenceBucket.bySeq);

export function evidenceId(body: Uint8Array): Uint8Array {
  return sha256(body);
}

/** The key that says whether evidence `id` was included. */
export function evidenceKey(id: Uint8Array): Uint8Array {
  return bucketKey(StatePrefix.evidence, EvidenceBucket.byId, id);
}

function seqKey(seq: number): Uint8Array {
  return bucketKey(StatePrefix.evidence, EvidenceBucket.bySeq, orderedId(seq));
}

export function encodeEvidenceRecord(r: EvidenceEntry): Uint8Array {
  return encode([r.id, r.height, r.round, r.kind, r.author, r.includedAt]);
}

export function decodeEvidenceRecord(bytes: Uint8Array): EvidenceEntry {
  const f = readArray(decode(bytes, 'evidence'), 'evidence', 6);
  return {
    id: readBytes(f[0]!, 'evidence.id', HASH_LENGTH),
    height: readUint(f[1]!, 'evidence.height'),
    round: readUint(f[2]!, 'evidence.round'),
    kind: readUint(f[3]!, 'evidence.kind'),
    author: readBytes(f[4]!, 'evidence.author', ADDRESS_LENGTH),
    includedAt: readUint(f[5]!, 'evidence.includedAt'),
  };
}

export function hasEvidenceRecord(state: StateReader, id: Uint8Array): boolean {
  return state.get(evidenceKey(id)) !== undefined;
}

/** The record of evidence `id` (two reads: its sequence number, then the record). */
export function getEvidenceRecord(state: StateReader, id: Uint8Array): EvidenceRecord | undefined {
  const seq = state.get(evidenceKey(id));
  if (seq === undefined) return undefined;
  if (seq.length !== 8) throw new JouleError(ErrorCode.STORE_CORRUPT, 'malformed evidence sequence number', 'evidence');
  const raw = state.get(seqKey(readU64be(seq)));
  if (raw === undefined) throw new JouleError(ErrorCode.STORE_CORRUPT, 'included evidence has no record', 'evidence');
  const { id: _id, ...record } = decodeEvidenceRecord(raw);
  return record;
}

export function evidenceCount(state: StateReader): number {
  const raw = state.get(EVIDENCE_COUNT_KEY);
  return raw === undefined ? 0 : readUint(decode(raw, 'evidence.count'), 'evidence.count');
}

/** Records new evidence as the next in inclusion order. The caller checked it is not recorded yet. */
export function addEvidenceRecord(state: StateOverlay, id: Uint8Array, r: EvidenceRecord): void {
  const seq = evidenceCount(state);
  state.set(evidenceKey(id), orderedId(seq));
  state.set(seqKey(seq), encodeEvidenceRecord({ id, ...r }));
  state.set(EVIDENCE_COUNT_KEY, encode(seq + 1));
}

/** What listEvidenceRecords(offset, limit) reads, for loading it first (WorldState.load). */
export function evidenceListAccess(offset: number, limit: number): Access {
  return { keys: [EVIDENCE_COUNT_KEY], ranges: [{ prefix: BY_SEQ, from: seqKey(offset), limit }] };
}

/** Records in inclusion order, `offset` first, at most `limit` of them. */
export function listEvidenceRecords(state: StateReader, offset: number, limit: number): { total: number; items: EvidenceEntry[] } {
  const total = evidenceCount(state);
  const items: EvidenceEntry[] = [];
  if (limit <= 0 || offset >= total) return { total, items };
  let expected = offset;
  for (const [key, value] of state.iterate(BY_SEQ, seqKey(offset))) {
    // Sequence numbers are dense: a gap would silently shift every later page.
    if (readU64be(key, key.length - 8) !== expected) throw new JouleError(ErrorCode.STORE_CORRUPT, `evidence record ${expected} is missing`, 'evidence');
    items.push(decodeEvidenceRecord(value));
    expected++;
    if (items.length >= limit) break;
  }
  if (items.length < Math.min(limit, total - offset))
    throw new JouleError(ErrorCode.STORE_CORRUPT, `evidence records end at ${expected}, count is ${total}`, 'evidence');
  return { total, items };
}
