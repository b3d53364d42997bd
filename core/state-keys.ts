import { concatBytes } from './bytes.ts';

/**
 * The state key space, one table for every part: a prefix byte per kind of record, then
 * the record's id. These keys are what the state tree authenticates, what
 * `joule_getProof` / `joule query proof KEY` prove, and what state/'s typed views read and
 * write. A prefix, once given, is never reused.
 */
export const StatePrefix = {
  account: 0x01,
  validatorSet: 0x02,
  validatorVote: 0x03,
  evidence: 0x04,
  device: 0x10,
  energyUtxo: 0x11,
  order: 0x20,
  agreement: 0x21,
  chainMeta: 0x7f,
} as const;
export type StatePrefixId = (typeof StatePrefix)[keyof typeof StatePrefix];

/**
 * Buckets under StatePrefix.evidence (state/evidence-records.ts): a kind that keeps more
 * than one sort of record gives each a bucket byte after its prefix byte.
 */
export const EvidenceBucket = {
  /** ++ id(32) -> u64be(inclusion sequence number): "already included?" */
  byId: 0x01,
  /** ++ u64be(seq) -> the record: lists in inclusion order */
  bySeq: 0x02,
  /** -> number of records */
  count: 0x03,
} as const;

export function stateKey(prefix: number, id: Uint8Array): Uint8Array {
  return concatBytes(new Uint8Array([prefix]), id);
}

/** The key of an address's account record. */
export function accountKey(address: Uint8Array): Uint8Array {
  return stateKey(StatePrefix.account, address);
}
