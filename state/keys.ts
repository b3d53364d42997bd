import { concatBytes, u64be } from '../core/bytes.ts';

/**
 * The state key space, in one table (as Lodestar's db/buckets.ts): one prefix byte per
 * kind of record, then, for a kind that keeps more than one sort of record, one bucket
 * byte, then the record's id. These keys are what the state tree authenticates, what
 * `joule query proof KEY` proves, and what prefix iteration (StateReader.iterate) lists in
 * byte order, so an id laid out big-endian lists in numeric order. Views of one record
 * kind each (state/accounts.ts, validator-set.ts, validator-votes.ts, evidence-records.ts)
 * build their keys only from here, so no two kinds can collide.
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

/** Buckets under StatePrefix.evidence (state/evidence-records.ts). */
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

/** A key (or a prefix) made of a kind, a bucket and an id. */
export function bucketKey(prefix: number, bucket: number, id: Uint8Array = new Uint8Array(0)): Uint8Array {
  return concatBytes(new Uint8Array([prefix, bucket]), id);
}

/** The prefix every key of one kind starts with. */
export function kindPrefix(prefix: number): Uint8Array {
  return new Uint8Array([prefix]);
}

export function accountKey(address: Uint8Array): Uint8Array {
  return stateKey(StatePrefix.account, address);
}

/** u64be: ids that must list in numeric order (sequence numbers, heights, intervals). */
export function orderedId(n: number): Uint8Array {
  return u64be(n);
}

/** The smallest key greater than every key starting with `prefix` (undefined: none, the prefix is all 0xff). */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

export function hasPrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}
