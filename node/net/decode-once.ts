/**
 * Gossip hands the same payload to a topic's `validate` and then its `handle`; decoding
 * it in both costs twice. This remembers the decoded value per payload object (weakly, so
 * nothing is retained), and simply decodes again for a payload it has not seen.
 */
export function decodeOnce<T extends object>(decode: (bytes: Uint8Array) => T): (bytes: Uint8Array) => T {
  const cache = new WeakMap<Uint8Array, T>();
  return (bytes) => {
    let value = cache.get(bytes);
    if (value === undefined) {
      value = decode(bytes);
      cache.set(bytes, value);
    }
    return value;
  };
}
