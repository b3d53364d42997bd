/** Signature sets for tests and benchmarks: deterministic keys, valid sets of every kind, and ways to spoil one. */
import * as blst from '@chainsafe/blst';
import { blsAggregateSignatures, blsSign, ed25519FromSeed, ed25519Sign, type BlsKeyPair, type Ed25519KeyPair } from '../../../core/keys.ts';
import type { SignatureSet, SignatureSetKind } from '../../../core/signature-sets.ts';

function seed(label: string, i: number): Uint8Array {
  const out = new Uint8Array(32);
  const text = new TextEncoder().encode(`${label}/${i}`);
  out.set(text.subarray(0, 32));
  out[31] = i & 0xff;
  out[30] = (i >> 8) & 0xff;
  return out;
}

const edKeys = new Map<number, Ed25519KeyPair>();
const blsKeys = new Map<number, BlsKeyPair>();

export function edKey(i: number): Ed25519KeyPair {
  let k = edKeys.get(i);
  if (k === undefined) edKeys.set(i, (k = ed25519FromSeed(seed('ed', i))));
  return k;
}

export function blsKey(i: number): BlsKeyPair {
  let k = blsKeys.get(i);
  if (k === undefined) {
    const sk = blst.SecretKey.fromKeygen(seed('bls', i));
    blsKeys.set(i, (k = { secretKey: sk.toBytes(), publicKey: sk.toPublicKey().toBytes(true) }));
  }
  return k;
}

export function message(i: number, label = 'msg'): Uint8Array {
  return new TextEncoder().encode(`${label}-${i}`);
}

/** A valid set of `kind`; `i` varies keys and messages, `n` is the signer count of aggregates. */
export function validSet(kind: SignatureSetKind, i: number, n = 3): SignatureSet {
  switch (kind) {
    case 'ed25519': {
      const k = edKey(i % 16);
      const m = message(i);
      return { kind, publicKey: k.publicKey, message: m, signature: ed25519Sign(k.seed, m) };
    }
    case 'bls': {
      const k = blsKey(i % 16);
      const m = message(i);
      return { kind, publicKey: k.publicKey, message: m, signature: blsSign(k.secretKey, m) };
    }
    case 'bls-aggregate': {
      const keys = Array.from({ length: n }, (_, j) => blsKey((i + j) % 16));
      const messages = keys.map((_, j) => message(i * 1000 + j, 'reading'));
      return {
        kind,
        publicKeys: keys.map((k) => k.publicKey),
        messages,
        signature: blsAggregateSignatures(keys.map((k, j) => blsSign(k.secretKey, messages[j]!))),
      };
    }
    case 'bls-fast-aggregate': {
      const keys = Array.from({ length: n }, (_, j) => blsKey((i + j) % 16));
      const m = message(i, 'seal');
      return { kind, publicKeys: keys.map((k) => k.publicKey), message: m, signature: blsAggregateSignatures(keys.map((k) => blsSign(k.secretKey, m))) };
    }
  }
}

export type Spoil = 'message' | 'signature' | 'key' | 'garbage-signature' | 'short-key';

/** `set` made invalid in one way (a changed message, a signature of another set, ...). */
export function spoil(set: SignatureSet, how: Spoil): SignatureSet {
  const flip = (b: Uint8Array) => {
    const c = new Uint8Array(b);
    c[c.length - 1]! ^= 1;
    return c;
  };
  const other = validSet(set.kind, 999);
  switch (how) {
    case 'message':
      return set.kind === 'bls-aggregate' ? { ...set, messages: [flip(set.messages[0]!), ...set.messages.slice(1)] } : { ...set, message: flip(set.message) };
    case 'signature':
      return { ...set, signature: other.signature };
    case 'garbage-signature':
      return { ...set, signature: new Uint8Array(set.signature.length).fill(7) };
    case 'key': {
      // A key used by no valid set (valid sets use keys 0..15).
      const stranger = set.kind === 'ed25519' ? edKey(100).publicKey : blsKey(100).publicKey;
      if (set.kind === 'ed25519' || set.kind === 'bls') return { ...set, publicKey: stranger };
      return { ...set, publicKeys: [stranger, ...set.publicKeys.slice(1)] };
    }
    case 'short-key':
      if (set.kind === 'ed25519' || set.kind === 'bls') return { ...set, publicKey: set.publicKey.subarray(1) };
      return { ...set, publicKeys: [set.publicKeys[0]!.subarray(1), ...set.publicKeys.slice(1)] };
  }
}

/** The order of BLS12-381's groups: secret keys are scalars modulo it. */
const BLS_ORDER = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

const scalarBytes = (x: bigint): Uint8Array => Uint8Array.from(Buffer.from(x.toString(16).padStart(64, '0'), 'hex'));

/**
 * Signatures of mA under skA and of mB under skB, each wrong by the same point, once added
 * and once taken away: (sA + x H(mB)) and (skB - x) H(mB). Each fails alone; their sum is the
 * sum of the two right signatures. Only someone holding both keys can make such a pair.
 */
export function cancellingSignatures(skA: Uint8Array, mA: Uint8Array, skB: Uint8Array, mB: Uint8Array): [Uint8Array, Uint8Array] {
  const x = 0x1234_5678_9abc_def0n;
  const b = BigInt(`0x${Buffer.from(skB).toString('hex')}`);
  return [blsAggregateSignatures([blsSign(skA, mA), blsSign(scalarBytes(x), mB)]), blsSign(scalarBytes((b - x + BLS_ORDER) % BLS_ORDER), mB)];
}

/** Two single-message BLS sets whose signatures' errors cancel (cancellingSignatures). */
export function cancellingPair(i: number, j: number): [SignatureSet, SignatureSet] {
  const a = validSet('bls', i);
  const b = validSet('bls', j);
  if (a.kind !== 'bls' || b.kind !== 'bls') throw new Error('unreachable');
  const [sa, sb] = cancellingSignatures(blsKey(i % 16).secretKey, a.message, blsKey(j % 16).secretKey, b.message);
  return [
    { ...a, signature: sa },
    { ...b, signature: sb },
  ];
}
