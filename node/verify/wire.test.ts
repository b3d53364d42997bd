import { describe, expect, it } from 'vitest';
import type { SignatureSet } from '../../core/signature-sets.ts';
import { spoil, validSet } from './testing/sets.ts';
import { packSets, unpackSets } from './wire.ts';

const plain = (sets: readonly SignatureSet[]) => JSON.parse(JSON.stringify(sets, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v)));

describe('packed signature sets', () => {
  it('round-trip every kind, malformed lengths included, without losing a byte', () => {
    const sets: SignatureSet[] = [
      validSet('ed25519', 1),
      validSet('bls', 2),
      validSet('bls-aggregate', 3, 5),
      validSet('bls-fast-aggregate', 4, 4),
      spoil(validSet('ed25519', 5), 'short-key'),
      spoil(validSet('bls-fast-aggregate', 6), 'short-key'),
      { kind: 'ed25519', publicKey: new Uint8Array(0), message: new Uint8Array(0), signature: new Uint8Array(0) },
      { kind: 'bls-fast-aggregate', publicKeys: [], message: new Uint8Array([1]), signature: new Uint8Array(96) },
    ];
    const packed = packSets(sets);
    expect(plain(unpackSets(packed))).toEqual(plain(sets));
    expect(unpackSets(packSets([]))).toEqual([]);
  });

  it('keep an aggregate whose key and message counts differ as it is (the verifier must see the mismatch)', () => {
    const set = validSet('bls-aggregate', 7, 3);
    if (set.kind !== 'bls-aggregate') throw new Error('unreachable');
    const lopsided: SignatureSet = { ...set, messages: set.messages.slice(0, 2) };
    const [back] = unpackSets(packSets([lopsided]));
    expect(back).toMatchObject({ kind: 'bls-aggregate' });
    if (back?.kind !== 'bls-aggregate') throw new Error('unreachable');
    expect(back.publicKeys).toHaveLength(3);
    expect(back.messages).toHaveLength(2);
  });
});
