import { concatBytes } from './bytes.ts';
import { sha256, ZERO_HASH } from './hash.ts';

const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

/**
 * Root of a binary Merkle tree over an ordered list (RFC 6962 shape: leaves and inner
 * nodes are domain-separated; an odd node is promoted unchanged). Used for the tx and
 * receipt roots in block headers. The empty list has the zero hash.
 */
export function merkleRoot(items: readonly Uint8Array[]): Uint8Array {
  if (items.length === 0) return ZERO_HASH;
  let level = items.map((item) => sha256(concatBytes(LEAF, item)));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(i + 1 < level.length ? sha256(concatBytes(NODE, level[i]!, level[i + 1]!)) : level[i]!);
    }
    level = next;
  }
  return level[0]!;
}
