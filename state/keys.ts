import { concatBytes, u64be } from '../core/bytes.ts';

/**
 * The state key space. The table of prefixes (and buckets within a kind) lives in
 * core/state-keys.ts (rpc/ and the CLI name state keys too); state/'s views import it from
 * here, with the helpers that lay out ids. Prefix iteration (StateReader.iterate) lists
 * keys in byte order, so an id laid out big-endian lists in numeric order. Views of one
 * record kind each (state/accounts.ts, validator-set.ts, validator-votes.ts,
 * evidence-records.ts) build their keys only from here, so no two kinds can collide.
 */
export { accountKey, EvidenceBucket, StatePrefix, stateKey } from '../core/state-keys.ts';

/** A key (or a prefix) made of a kind, a bucket and an id. */
export function bucketKey(prefix: number, bucket: number, id: Uint8Array = new Uint8Array(0)): Uint8Array {
  return concatBytes(new Uint8Array([prefix, bucket]), id);
}

/** The prefix every key of one kind starts with. */
export function kindPrefix(prefix: number): Uint8Array {
  return new Uint8Array([prefix]);
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
