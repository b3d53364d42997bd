/**
 * Map keys for hashes and addresses. Uint8Array keys compare by identity, so the pool
 * needs a string; packing two bytes per UTF-16 code unit measured about twice as fast as
 * hex (Buffer.toString) for Map set/get, and keys are made on every add, lookup and
 * commit. The first unit is the length, so inputs of different lengths never collide
 * (a malformed 31-byte "hash" cannot match a stored 32-byte one). Internal only; use
 * core's toHex for display.
 */
export function bytesKey(b: Uint8Array): string {
  const n = (b.length + 1) >> 1;
  const units = new Array<number>(n + 1);
  units[0] = b.length & 0xffff;
  for (let i = 0; i < n; i++) units[i + 1] = (b[2 * i]! << 8) | (b[2 * i + 1] ?? 0);
  return String.fromCharCode.apply(null, units);
}
