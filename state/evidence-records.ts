import { concatBytes, utf8 } from '../core/bytes.ts';
import { decode, encode, readArray, readBytes, readUint } from '../core/codec.ts';
import { ErrorCode, JouleError } from '../core/errors.ts';
import { HASH_LENGTH, sha256 } from '../core/hash.ts';
import { ADDRESS_LENGTH } from '../core/keys.ts';
import { StatePrefix, stateKey } from './keys.ts';
import type { StateOverlay, StateReader } from './overlay.ts';

/**
 * Included equivocation evidence (typed view of StatePrefix.evidence).
 *
 *   0x04 ++ sha256(evidence body)   -> [height, round, kind, author, includedAt]
 *   0x04 ++ "count"                 -> number of records
 *   0x04 ++ "page" ++ u32be(p)      -> ids p*PAGE_SIZE .. p*PAGE_SIZE+PAGE_SIZE-1, inclusion order
 *
 * The record under the id both answers "already included?" (evidence is canonical, so one
 * pair has one id) and holds what RPC shows. The paged index lets RPC list evidence
 * without scanning the key space, and keeps every write small however long the chain.
 */

export const EVIDENCE_PAGE_SIZE = 256;

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

const COUNT_KEY = stateKey(StatePrefix.evidence, utf8('count'));

function pageKey(page: number): Uint8Array {
  const n = new Uint8Array(4);
  new DataView(n.buffer).setUint32(0, page);
  return stateKey(StatePrefix.evidence, concatBytes(utf8('page'), n));
}

export function evidenceId(body: Uint8Array): Uint8Array {
  return sha256(body);
}

export function evidenceKey(id: Uint8Array): Uint8Array {
  return stateKey(StatePrefix.evidence, id);
}

export function encodeEvidenceRecord(r: EvidenceRecord): Uint8Array {
  return encode([r.height, r.round, r.kind, r.author, r.includedAt]);
}

export function decodeEvidenceRecord(bytes: Uint8Array): EvidenceRecord {
  const f = readArray(decode(bytes, 'evidence'), 'evidence', 5);
  return {
    height: readUint(f[0]!, 'evidence.height'),
    round: readUint(f[1]!, 'evidence.round'),
    kind: readUint(f[2]!, 'evidence.kind'),
    author: readBytes(f[3]!, 'evidence.author', ADDRESS_LENGTH),
    includedAt: readUint(f[4]!, 'evidence.includedAt'),
  };
}

export function getEvidenceRecord(state: StateReader, id: Uint8Array): EvidenceRecord | undefined {
  const raw = state.get(evidenceKey(id));
  return raw === undefined ? undefined : decodeEvidenceRecord(raw);
}

export function evidenceCount(state: StateReader): number {
  const raw = state.get(COUNT_KEY);
  return raw === undefined ? 0 : readUint(decode(raw, 'evidence.count'), 'evidence.count');
}

function readPage(state: StateReader, page: number): Uint8Array[] {
  const raw = state.get(pageKey(page));
  if (raw === undefined) return [];
  return readArray(decode(raw, 'evidence.page'), 'evidence.page').map((v, i) => readBytes(v, `evidence.page[${i}]`, HASH_LENGTH));
}

/** Records new evidence and appends its id to the index. The caller checked it is not recorded yet. */
export function addEvidenceRecord(state: StateOverlay, id: Uint8Array, r: EvidenceRecord): void {
  state.set(evidenceKey(id), encodeEvidenceRecord(r));
  const n = evidenceCount(state);
  const page = Math.floor(n / EVIDENCE_PAGE_SIZE);
  state.set(pageKey(page), encode([...readPage(state, page), id]));
  state.set(COUNT_KEY, encode(n + 1));
}

/** Records in inclusion order, `offset` first, at most `limit` of them. */
export function listEvidenceRecords(state: StateReader, offset: number, limit: number): { total: number; items: EvidenceEntry[] } {
  const total = evidenceCount(state);
  const items: EvidenceEntry[] = [];
  let loaded = { page: -1, ids: [] as Uint8Array[] };
  for (let i = offset; i < total && items.length < limit; ) {
    const page = Math.floor(i / EVIDENCE_PAGE_SIZE);
    if (loaded.page !== page) loaded = { page, ids: readPage(state, page) };
    const { ids } = loaded;
    const j = i - page * EVIDENCE_PAGE_SIZE;
    // Every page but the last is full; a missing id would otherwise loop forever.
    if (j >= ids.length) throw new JouleError(ErrorCode.STORE_CORRUPT, `evidence page ${page} is short`, 'evidence.page');
    const id = ids[j]!;
    const r = getEvidenceRecord(state, id);
    if (r === undefined) throw new JouleError(ErrorCode.STORE_CORRUPT, 'indexed evidence has no record', 'evidence.page');
    items.push({ id, ...r });
    i++;
  }
  return { total, items };
}
