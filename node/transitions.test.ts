import { describe, expect, it } from 'vitest';
import { addressFromPublicKey, blsGenerate, ed25519Generate } from '../core/keys.ts';
import { ValidatorSet } from '../core/validators.ts';
import { parseTransition, signTransition, transitionToJson } from './transitions.ts';

function members(n: number) {
  return Array.from({ length: n }, (_, i) => {
    const id = ed25519Generate();
    return { name: `v${i}`, address: addressFromPublicKey(id.publicKey), identityKey: id.publicKey, blsKey: blsGenerate().publicKey, seed: id.seed };
  });
}

describe('emergency transitions', () => {
  const chainId = 'joule-test';
  const ms = members(2);
  const set = new ValidatorSet(ms);
  const signed = transitionToJson({ height: 9, validators: set, signatures: ms.map((m) => signTransition(chainId, 9, set, m.seed, m.address)) });

  it('accepts a transition signed by every member of the new set', () => {
    const t = parseTransition(signed, chainId, 'transitions[0]');
    expect(t.height).toBe(9);
    expect(t.validators.hash).toEqual(set.hash);
  });

  it('refuses a missing signature, a signature for another chain or height, and an edited set', () => {
    expect(() => parseTransition({ ...signed, signatures: signed.signatures.slice(1) }, chainId, 't')).toThrow(/missing signatures/);
    expect(() => parseTransition(signed, 'other-chain', 't')).toThrow(/does not verify/);
    expect(() => parseTransition({ ...signed, height: 10 }, chainId, 't')).toThrow(/does not verify/);
    const [first, second] = signed.validators;
    expect(() => parseTransition({ ...signed, validators: [first!, { ...second!, name: 'renamed' }] }, chainId, 't')).toThrow(/does not verify/);
    const outsider = members(1)[0]!;
    expect(() => parseTransition({ ...signed, signatures: [...signed.signatures, transitionToJson({ height: 9, validators: set, signatures: [signTransition(chainId, 9, set, outsider.seed, outsider.address)] }).signatures[0]!] }, chainId, 't')).toThrow(/not in the new validator set/);
  });
});
