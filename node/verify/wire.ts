import type { SignatureSet } from '../../core/signature-sets.ts';

/**
 * Signature sets packed into one buffer for a worker: one transfer (no copy, no structured
 * clone of thousands of small arrays) per batch. Layout, integers u32 little-endian:
 *   count, then per set: kind (u8), and
 *     ed25519 / bls:          bytes(publicKey) bytes(message) bytes(signature)
 *     bls-aggregate:          n, n x bytes(publicKey), m, m x bytes(message), bytes(signature)
 *     bls-fast-aggregate:     n, n x bytes(publicKey), bytes(message), bytes(signature)
 *   where bytes(x) = length, then x.
 * Lengths are carried as they are: a malformed key must reach the verifier (and fail there).
 * Only ever read what this module wrote (our own workers): unpacking trusts the layout.
 */

const KINDS = ['ed25519', 'bls', 'bls-aggregate', 'bls-fast-aggregate'] as const;

function size(set: SignatureSet): number {
  const bytes = (b: Uint8Array) => 4 + b.length;
  switch (set.kind) {
    case 'ed25519':
    case 'bls':
      return 1 + bytes(set.publicKey) + bytes(set.message) + bytes(set.signature);
    case 'bls-aggregate':
      return 1 + 8 + set.publicKeys.reduce((n, k) => n + bytes(k), 0) + set.messages.reduce((n, m) => n + bytes(m), 0) + bytes(set.signature);
    case 'bls-fast-aggregate':
      return 1 + 4 + set.publicKeys.reduce((n, k) => n + bytes(k), 0) + bytes(set.message) + bytes(set.signature);
  }
}

export function packSets(sets: readonly SignatureSet[]): Uint8Array {
  let total = 4;
  for (const s of sets) total += size(s);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  const u32 = (n: number) => {
    view.setUint32(at, n, true);
    at += 4;
  };
  const bytes = (b: Uint8Array) => {
    u32(b.length);
    out.set(b, at);
    at += b.length;
  };
  u32(sets.length);
  for (const s of sets) {
    out[at++] = KINDS.indexOf(s.kind);
    switch (s.kind) {
      case 'ed25519':
      case 'bls':
        bytes(s.publicKey);
        bytes(s.message);
        bytes(s.signature);
        break;
      case 'bls-aggregate':
        u32(s.publicKeys.length);
        s.publicKeys.forEach(bytes);
        u32(s.messages.length);
        s.messages.forEach(bytes);
        bytes(s.signature);
        break;
      case 'bls-fast-aggregate':
        u32(s.publicKeys.length);
        s.publicKeys.forEach(bytes);
        bytes(s.message);
        bytes(s.signature);
        break;
    }
  }
  return out;
}

/** The sets `packSets` wrote; every array is a view into `buf`. */
export function unpackSets(buf: Uint8Array): SignatureSet[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let at = 0;
  const u32 = () => {
    const n = view.getUint32(at, true);
    at += 4;
    return n;
  };
  const bytes = () => {
    const n = u32();
    const b = buf.subarray(at, at + n);
    at += n;
    return b;
  };
  const list = (n: number) => Array.from({ length: n }, bytes);
  const count = u32();
  const sets: SignatureSet[] = [];
  for (let i = 0; i < count; i++) {
    const kind = KINDS[buf[at++]!];
    switch (kind) {
      case 'ed25519':
      case 'bls':
        sets.push({ kind, publicKey: bytes(), message: bytes(), signature: bytes() });
        break;
      case 'bls-aggregate': {
        const publicKeys = list(u32());
        sets.push({ kind, publicKeys, messages: list(u32()), signature: bytes() });
        break;
      }
      case 'bls-fast-aggregate': {
        const n = u32();
        sets.push({ kind, publicKeys: list(n), message: bytes(), signature: bytes() });
        break;
      }
      default:
        throw new Error(`signature set ${i}: unknown kind`);
    }
  }
  return sets;
}
