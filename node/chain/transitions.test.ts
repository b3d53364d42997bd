import { bls12_381 } from '@noble/curves/bls12-381.js';
import { describe, expect, it } from 'vitest';
import { commitSealBytes, type CommitCertificate } from '../../core/block.ts';
import { fromHex, toHex } from '../../core/bytes.ts';
import { isJouleError } from '../../core/errors.ts';
import { sha256 } from '../../core/hash.ts';
import { addressFromPublicKey, blsGenerate, blsPublicKey, blsSign, ed25519Generate, ed25519Verify, parseAddress } from '../../core/keys.ts';
import { signProofOfPossession } from '../../core/pop.ts';
import { bitmapFromIndexes, MAX_VALIDATORS, ValidatorSet } from '../../core/validators.ts';
import { verifyCertificate } from '../../consensus/certificate.ts';
import {
  createTransition,
  parseTransition,
  signTransition,
  transitionSigningBytes,
  transitionToJson,
  type TransitionJson,
  type TransitionMember,
} from './transitions.ts';

const chainId = 'joule-test';
const G1 = bls12_381.G1.Point;

function members(n: number, prefix = 'v'): TransitionMember[] {
  return Array.from({ length: n }, (_, i) => ({ name: `${prefix}${i}`, identity: ed25519Generate(), bls: blsGenerate() }));
}

/** The CONFIG_INVALID error `f` throws, to assert on its code and JSON path. */
function refusal(f: () => unknown): { code: string; field: string | undefined; message: string } {
  try {
    f();
  } catch (e) {
    if (isJouleError(e)) return { code: e.code, field: e.field, message: e.message };
    throw e;
  }
  throw new Error('expected a refusal');
}

/** The set exactly as the JSON names it: what the old check (lengths and member signatures) accepted. */
function setAsWritten(json: TransitionJson): ValidatorSet {
  return new ValidatorSet(
    json.validators.map((v) => ({ name: v.name, address: parseAddress(v.address), identityKey: fromHex(v.identityKey), blsKey: fromHex(v.blsKey) })),
  );
}

/** The 48-byte compressed encoding of a point with this x on y^2 = x^3 + 4, in no particular subgroup. */
function compressedG1(x: bigint): Uint8Array {
  const out = new Uint8Array(48);
  for (let i = 47, v = x; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  out[0]! |= 0x80;
  return out;
}

describe('emergency transitions', () => {
  const ms = members(2);
  const t = createTransition(chainId, 9, ms);
  const signed = transitionToJson(t);
  const set = t.validators;

  it('accepts a transition signed by every member of the new set, each proving possession of its BLS key', () => {
    const parsed = parseTransition(signed, chainId, 'transitions[0]');
    expect(parsed.height).toBe(9);
    expect(parsed.validators.hash).toEqual(set.hash);
    expect(transitionToJson(parsed)).toEqual(signed);
  });

  it('refuses more members than MAX_VALIDATORS before checking any of them', () => {
    const tooMany = { ...signed, validators: Array.from({ length: MAX_VALIDATORS + 1 }, () => signed.validators[0]!) };
    expect(refusal(() => parseTransition(tooMany, chainId, 't'))).toMatchObject({
      field: 'config.t.validators',
      message: expect.stringMatching(/at most 1024 validators, got 1025/),
    });
  });

  it('refuses a missing signature, a signature for another chain or height, and an edited set', () => {
    expect(() => parseTransition({ ...signed, signatures: signed.signatures.slice(1) }, chainId, 't')).toThrow(/missing signatures/);
    expect(() => parseTransition({ ...signed, height: 10 }, chainId, 't')).toThrow(/signature: does not verify/);
    const [first, second] = signed.validators;
    expect(() => parseTransition({ ...signed, validators: [first!, { ...second!, name: 'renamed' }] }, chainId, 't')).toThrow(/signature: does not verify/);
    const outsider = members(1, 'x')[0]!;
    const foreign = transitionToJson({
      ...t,
      signatures: [signTransition(chainId, 9, set, outsider.identity.seed, addressFromPublicKey(outsider.identity.publicKey))],
    });
    expect(() => parseTransition({ ...signed, signatures: [...signed.signatures, foreign.signatures[0]!] }, chainId, 't')).toThrow(
      /not in the new validator set/,
    );
  });

  it('refuses a transition made for another chain at its first proof of possession', () => {
    expect(refusal(() => parseTransition(signed, 'other-chain', 't'))).toMatchObject({
      code: 'CONFIG_INVALID',
      field: 'config.t.validators[0].blsProofOfPossession',
    });
  });

  // Finding 4 of issue 6. pk_rogue = pk_attacker - sum(others): the set's aggregate key is
  // then the attacker's own, so one signature of the attacker "is" a quorum certificate.
  // The rogue key is a valid subgroup point and every member signs the transition; only
  // the proof of possession (which needs the rogue key's secret) tells it apart.
  it('refuses a rogue BLS key without a valid proof of possession: the exact set with which one member forges any certificate', () => {
    const honest = members(3, 'honest');
    const attacker: TransitionMember = { name: 'mallory', identity: ed25519Generate(), bls: blsGenerate() };
    const others = honest.map((m) => G1.fromBytes(m.bls.publicKey)).reduce((a, b) => a.add(b));
    const rogueKey = G1.fromBytes(attacker.bls.publicKey).subtract(others).toBytes(true);
    expect(blsPublicKey(rogueKey)).toBeDefined();
    // Its proof can only be signed with a secret the attacker has: its own.
    const rogue: TransitionMember = { ...attacker, bls: { publicKey: rogueKey, secretKey: attacker.bls.secretKey } };
    const json = transitionToJson(createTransition(chainId, 9, [...honest, rogue]));

    const rogueSet = setAsWritten(json);
    for (const s of json.signatures) {
      const member = rogueSet.at(rogueSet.indexOf(parseAddress(s.address)));
      expect(ed25519Verify(member.identityKey, transitionSigningBytes(chainId, 9, rogueSet), fromHex(s.signature))).toBe(true);
    }
    const blockHash = sha256(new TextEncoder().encode('a block no honest validator has seen'));
    const forged: CommitCertificate = {
      height: 9,
      round: 0,
      blockHash,
      aggregateSignature: blsSign(attacker.bls.secretKey, commitSealBytes(chainId, 9, 0, blockHash)),
      signers: bitmapFromIndexes(rogueSet.size, [0, 1, 2, 3]),
    };
    expect(verifyCertificate(forged, rogueSet, chainId)).toBe(true);

    const rogueIndex = json.validators.findIndex((v) => v.name === 'mallory');
    expect(refusal(() => parseTransition(json, chainId, 'transitions[0]'))).toMatchObject({
      code: 'CONFIG_INVALID',
      field: `config.transitions[0].validators[${rogueIndex}].blsProofOfPossession`,
    });
    // The same people with the attacker's real key: accepted, and the forgery is worthless.
    const fair = parseTransition(transitionToJson(createTransition(chainId, 9, [...honest, attacker])), chainId, 'transitions[0]');
    expect(verifyCertificate(forged, fair.validators, chainId)).not.toBe(true);
  });

  it('refuses a BLS key that is not a subgroup point (infinity, off the curve, outside the subgroup) at its path', () => {
    const infinity = new Uint8Array(48);
    infinity[0] = 0xc0;
    const offCurve = compressedG1(1n); // 1 + 4 = 5 is not a square mod p
    const outsideSubgroup = compressedG1(4n); // 68 is a square: on the curve, but not in the prime-order subgroup
    expect(() => G1.fromBytes(outsideSubgroup)).toThrow(/subgroup/);
    for (const key of [infinity, offCurve, outsideSubgroup]) {
      const validators = signed.validators.map((v, i) => (i === 1 ? { ...v, blsKey: `0x${toHex(key)}` } : v));
      expect(refusal(() => parseTransition({ ...signed, validators }, chainId, 't'))).toMatchObject({
        code: 'CONFIG_INVALID',
        field: 'config.t.validators[1].blsKey',
      });
    }
  });

  it('refuses an identity key that is not an Ed25519 point, and a missing or malformed proof of possession', () => {
    const notAPoint = `0x02${'00'.repeat(31)}`; // y = 2 has no x on edwards25519
    const bad = (i: number, field: string, value: string | undefined) => ({
      ...signed,
      validators: signed.validators.map((v, j) => (j === i ? { ...v, [field]: value } : v)),
    });
    expect(refusal(() => parseTransition(bad(0, 'identityKey', notAPoint), chainId, 't')).field).toBe('config.t.validators[0].identityKey');
    expect(refusal(() => parseTransition(bad(1, 'blsProofOfPossession', undefined), chainId, 't')).field).toBe('config.t.validators[1].blsProofOfPossession');
    expect(refusal(() => parseTransition(bad(1, 'blsProofOfPossession', '0x1234'), chainId, 't')).field).toBe('config.t.validators[1].blsProofOfPossession');
    // Another member's valid proof is a proof for another key.
    expect(refusal(() => parseTransition(bad(1, 'blsProofOfPossession', signed.validators[0]!.blsProofOfPossession), chainId, 't')).field).toBe(
      'config.t.validators[1].blsProofOfPossession',
    );
  });

  it('refuses duplicate BLS keys, identity keys and names, each at the later entry', () => {
    const [a, b] = members(2, 'd');
    // b holds a's BLS secret too, so its proof of possession is genuine: only uniqueness refuses it.
    const sharedBls = transitionToJson(createTransition(chainId, 9, [a!, { ...b!, bls: a!.bls }]));
    expect(refusal(() => parseTransition(sharedBls, chainId, 't'))).toMatchObject({
      code: 'CONFIG_INVALID',
      field: 'config.t.validators[1].blsKey',
      message: expect.stringMatching(/duplicate BLS key/),
    });

    const sameName = transitionToJson(createTransition(chainId, 9, [a!, { ...b!, name: a!.name }]));
    expect(refusal(() => parseTransition(sameName, chainId, 't'))).toMatchObject({
      field: 'config.t.validators[1].name',
      message: expect.stringMatching(/duplicate name/),
    });

    const twice = { ...signed, validators: [...signed.validators, { ...signed.validators[0]!, name: 'again' }] };
    expect(refusal(() => parseTransition(twice, chainId, 't'))).toMatchObject({
      field: 'config.t.validators[2].identityKey',
      message: expect.stringMatching(/duplicate identity key/),
    });
  });

  // Found by the fuzzer (test/fuzz, target config): String() of a JSON value whose
  // `toString` is data threw a TypeError at node start instead of naming the field.
  it('an address that is not a string is refused at its path, whatever JSON holds there', () => {
    const hostile = [{ toString: 1 }, [{ toString: 1 }], { valueOf: {}, toString: {} }, 42, null];
    for (const address of hostile) {
      const member = { ...signed, validators: signed.validators.map((v, j) => (j === 0 ? { ...v, address } : v)) };
      expect(refusal(() => parseTransition(member, chainId, 't'))).toMatchObject({ code: 'ADDRESS_INVALID', field: 't.validators[0].address' });
      const signature = { ...signed, signatures: signed.signatures.map((s, j) => (j === 1 ? { ...s, address } : s)) };
      expect(refusal(() => parseTransition(signature, chainId, 't'))).toMatchObject({ code: 'ADDRESS_INVALID', field: 't.signatures[1].address' });
    }
  });

  // Found by the fuzzer (test/fuzz, target config): any non-empty string was a name, and one
  // with a lone surrogate made hashing the set throw CODEC_WRONG_TYPE without naming the field.
  it('a member name is one genesis and votes accept (1-64 letters, digits, ".", "_", "-"), refused at its path otherwise', () => {
    for (const name of ['\ud800', 'two words', 'x'.repeat(65), '']) {
      const renamed = { ...signed, validators: signed.validators.map((v, j) => (j === 1 ? { ...v, name } : v)) };
      expect(refusal(() => parseTransition(renamed, chainId, 't'))).toMatchObject({ code: 'CONFIG_INVALID', field: 'config.t.validators[1].name' });
    }
  });

  it('a proof of possession binds the identity key: a member cannot reuse a proof made for another identity', () => {
    const [m] = members(1, 'p');
    const json = transitionToJson(createTransition(chainId, 9, [m!]));
    const otherIdentity = ed25519Generate().publicKey;
    const wrong = signProofOfPossession(chainId, m!.bls.secretKey, m!.bls.publicKey, otherIdentity);
    const edited = { ...json, validators: [{ ...json.validators[0]!, blsProofOfPossession: `0x${toHex(wrong)}` }] };
    expect(refusal(() => parseTransition(edited, chainId, 't')).field).toBe('config.t.validators[0].blsProofOfPossession');
  });
});
