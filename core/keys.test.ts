import { bls12_381 } from '@noble/curves/bls12-381.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bech32 } from '@scure/base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from './bytes.ts';
import { ErrorCode, JouleError } from './errors.ts';
import {
  ADDRESS_LENGTH,
  addressFromPublicKey,
  blsAggregateSignatures,
  blsAggregateVerify,
  blsFastAggregateVerify,
  blsFromSecret,
  blsSign,
  blsVerify,
  ed25519FromSeed,
  ed25519Sign,
  ed25519Verify,
  formatAddress,
  parseAddress,
} from './keys.ts';

/**
 * Cross-checks of core/keys.ts (node:crypto Ed25519, @chainsafe/blst BLS) against an
 * independent implementation (@noble/curves), so a client signing with noble and a node
 * verifying with node:crypto/blst agree.
 */

function flipBit(b: Uint8Array, bit: number): Uint8Array {
  const out = new Uint8Array(b);
  out[(bit >> 3) % out.length]! ^= 1 << (bit & 7);
  return out;
}

describe('Ed25519: node:crypto agrees with @noble/curves', () => {
  const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 });
  const msgArb = fc.uint8Array({ maxLength: 512 });

  it('same seed -> same public key', () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        expect(toHex(ed25519FromSeed(seed).publicKey)).toBe(toHex(ed25519.getPublicKey(seed)));
      }),
      { numRuns: 50 },
    );
  });

  it('signatures verify across implementations, both ways; signatures are identical (deterministic)', () => {
    fc.assert(
      fc.property(seedArb, msgArb, (seed, msg) => {
        const pub = ed25519FromSeed(seed).publicKey;
        const sigNode = ed25519Sign(seed, msg);
        const sigNoble = ed25519.sign(msg, seed);
        expect(toHex(sigNode)).toBe(toHex(sigNoble));
        expect(ed25519.verify(sigNode, msg, pub)).toBe(true);
        expect(ed25519Verify(pub, msg, sigNoble)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('a flipped bit in signature, message or key fails in both', () => {
    fc.assert(
      fc.property(seedArb, msgArb, fc.nat(), fc.constantFrom('sig', 'msg', 'key'), (seed, msg, bit, where) => {
        const pub = ed25519FromSeed(seed).publicKey;
        const sig = ed25519Sign(seed, msg);
        if (where === 'msg' && msg.length === 0) return;
        const s = where === 'sig' ? flipBit(sig, bit % 512) : sig;
        const m = where === 'msg' ? flipBit(msg, bit % (msg.length * 8)) : msg;
        const k = where === 'key' ? flipBit(pub, bit % 256) : pub;
        expect(ed25519Verify(k, m, s)).toBe(false);
        let nobleOk: boolean;
        try {
          nobleOk = ed25519.verify(s, m, k);
        } catch {
          nobleOk = false; // a flipped key bit can make the point undecodable
        }
        expect(nobleOk).toBe(false);
      }),
      { numRuns: 50 },
    );
  });

  it('malformed lengths verify as false, never throw', () => {
    const seed = new Uint8Array(32).fill(9);
    const { publicKey } = ed25519FromSeed(seed);
    const sig = ed25519Sign(seed, utf8('m'));
    expect(ed25519Verify(publicKey.subarray(0, 31), utf8('m'), sig)).toBe(false);
    expect(ed25519Verify(publicKey, utf8('m'), sig.subarray(0, 63))).toBe(false);
    expect(ed25519Verify(new Uint8Array(32), utf8('m'), new Uint8Array(64))).toBe(false);
  });

  it('a seed of the wrong length is KEY_INVALID', () => {
    expect(() => ed25519FromSeed(new Uint8Array(31))).toThrow(expect.objectContaining({ code: ErrorCode.KEY_INVALID }));
  });
});

describe('BLS12-381 (min-pk, Ethereum POP ciphersuite): blst agrees with @noble/curves', () => {
  const bls = bls12_381.longSignatures;
  const DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
  const nobleSign = (sk: Uint8Array, msg: Uint8Array): Uint8Array => bls.sign(bls.hash(msg, DST), sk).toBytes();
  const nobleVerify = (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean => {
    try {
      return bls.verify(sig, bls.hash(msg, DST), pk);
    } catch {
      return false;
    }
  };
  // a valid scalar: below the group order r (~0x73ed...), non-zero
  const secretArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => {
    const s = new Uint8Array(b);
    s[0] = s[0]! & 0x3f;
    s[31] = s[31]! | 1;
    return s;
  });
  const msgArb = fc.uint8Array({ maxLength: 200 });

  it('same secret -> same 48-byte public key', () => {
    fc.assert(
      fc.property(secretArb, (sk) => {
        const pk = blsFromSecret(sk).publicKey;
        expect(pk.length).toBe(48);
        expect(toHex(pk)).toBe(toHex(bls.getPublicKey(sk).toBytes()));
      }),
      { numRuns: 10 },
    );
  });

  it('sign with blst, verify with noble; sign with noble, verify with blst; same 96-byte signature', () => {
    fc.assert(
      fc.property(secretArb, msgArb, (sk, msg) => {
        const pk = blsFromSecret(sk).publicKey;
        const sigBlst = blsSign(sk, msg);
        const sigNoble = nobleSign(sk, msg);
        expect(sigBlst.length).toBe(96);
        expect(toHex(sigBlst)).toBe(toHex(sigNoble));
        expect(nobleVerify(pk, msg, sigBlst)).toBe(true);
        expect(blsVerify(pk, msg, sigNoble)).toBe(true);
      }),
      { numRuns: 5 },
    );
  });

  it('a wrong message or key fails in both', () => {
    const sk = blsFromSecret(new Uint8Array(32).fill(0x21)).secretKey;
    const other = blsFromSecret(new Uint8Array(32).fill(0x22));
    const pk = blsFromSecret(sk).publicKey;
    const msg = utf8('vote for block 7');
    const sig = blsSign(sk, msg);
    expect(blsVerify(pk, utf8('vote for block 8'), sig)).toBe(false);
    expect(nobleVerify(pk, utf8('vote for block 8'), sig)).toBe(false);
    expect(blsVerify(other.publicKey, msg, sig)).toBe(false);
    expect(nobleVerify(other.publicKey, msg, sig)).toBe(false);
    // a signature under the default NUL DST is not a POP-ciphersuite signature
    const nulSig = bls.sign(bls.hash(msg), sk).toBytes();
    expect(blsVerify(pk, msg, nulSig)).toBe(false);
    // malformed inputs verify as false, never throw
    expect(blsVerify(pk.subarray(0, 47), msg, sig)).toBe(false);
    expect(blsVerify(pk, msg, sig.subarray(0, 95))).toBe(false);
    expect(blsVerify(new Uint8Array(48), msg, sig)).toBe(false);
  });

  it('aggregate of 3 signers over one message: blst and noble agree; fast-aggregate-verify accepts it', () => {
    const sks = [1, 2, 3].map((i) => blsFromSecret(new Uint8Array(32).fill(0x10 + i)).secretKey);
    const pks = sks.map((sk) => blsFromSecret(sk).publicKey);
    const msg = utf8('commit seal: height 42');
    const sigs = sks.map((sk) => blsSign(sk, msg));
    const agg = blsAggregateSignatures(sigs);
    const nobleAgg = bls.aggregateSignatures(sks.map((sk) => nobleSign(sk, msg))).toBytes();
    expect(toHex(agg)).toBe(toHex(nobleAgg));
    expect(blsFastAggregateVerify(msg, pks, agg)).toBe(true);
    // noble: verify the aggregate against the aggregate public key
    expect(nobleVerify(bls.aggregatePublicKeys(pks).toBytes(), msg, agg)).toBe(true);
    // missing signer, wrong message, duplicated key: rejected
    expect(blsFastAggregateVerify(msg, pks.slice(0, 2), agg)).toBe(false);
    expect(blsFastAggregateVerify(utf8('commit seal: height 43'), pks, agg)).toBe(false);
    expect(blsFastAggregateVerify(msg, [pks[0]!, pks[1]!, pks[1]!], agg)).toBe(false);
    expect(blsFastAggregateVerify(msg, [], agg)).toBe(false);
  });

  it('aggregate over distinct messages: blst aggregate-verify accepts noble-made signatures', () => {
    const sks = [4, 5, 6].map((i) => blsFromSecret(new Uint8Array(32).fill(0x10 + i)).secretKey);
    const pks = sks.map((sk) => blsFromSecret(sk).publicKey);
    const msgs = ['reading a', 'reading b', 'reading c'].map(utf8);
    const agg = bls.aggregateSignatures(sks.map((sk, i) => nobleSign(sk, msgs[i]!))).toBytes();
    expect(toHex(agg)).toBe(toHex(blsAggregateSignatures(sks.map((sk, i) => blsSign(sk, msgs[i]!)))));
    expect(blsAggregateVerify(msgs, pks, agg)).toBe(true);
    expect(blsAggregateVerify([msgs[1]!, msgs[0]!, msgs[2]!], pks, agg)).toBe(false);
    expect(blsAggregateVerify(msgs.slice(0, 2), pks, agg)).toBe(false);
  });

  it('aggregating a malformed signature is KEY_INVALID naming its index', () => {
    const sig = blsSign(blsFromSecret(new Uint8Array(32).fill(0x31)).secretKey, utf8('x'));
    try {
      blsAggregateSignatures([sig, new Uint8Array(96)]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(JouleError);
      expect((e as JouleError).code).toBe(ErrorCode.KEY_INVALID);
      expect((e as JouleError).field).toBe('signatures[1]');
    }
  });
});

describe('addresses (bech32, prefix joule)', () => {
  const BECH32_CHARS = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  const addrArb = fc.uint8Array({ minLength: ADDRESS_LENGTH, maxLength: ADDRESS_LENGTH });

  function addressError(text: string): JouleError {
    try {
      parseAddress(text);
    } catch (e) {
      if (e instanceof JouleError) return e;
      throw e;
    }
    throw new Error(`accepted ${text}`);
  }

  it('derives 20 bytes from the public key and round-trips through its human form', () => {
    const pub = ed25519FromSeed(new Uint8Array(32).fill(1)).publicKey;
    expect(addressFromPublicKey(pub).length).toBe(20);
    fc.assert(
      fc.property(addrArb, (a) => {
        const text = formatAddress(a);
        expect(text.startsWith('joule1')).toBe(true);
        expect(toHex(parseAddress(text))).toBe(toHex(a));
      }),
      { numRuns: 200 },
    );
  });

  it("writes the text @scure/base's bech32 writes", () => {
    const scure = (a: Uint8Array) => bech32.encode('joule', bech32.toWords(a));
    for (const a of [new Uint8Array(20), new Uint8Array(20).fill(0xff), new Uint8Array(32).fill(3)]) expect(formatAddress(a)).toBe(scure(a));
    fc.assert(
      fc.property(addrArb, (a) => {
        expect(formatAddress(a)).toBe(scure(a));
      }),
      { numRuns: 1000 },
    );
  });

  it('a single-character typo is rejected with ADDRESS_INVALID', () => {
    fc.assert(
      fc.property(addrArb, fc.nat(), fc.integer({ min: 1, max: 31 }), (a, pos, shift) => {
        const text = formatAddress(a);
        const i = 'joule1'.length + (pos % (text.length - 'joule1'.length));
        const c = BECH32_CHARS[(BECH32_CHARS.indexOf(text[i]!) + shift) % 32]!;
        const typo = text.slice(0, i) + c + text.slice(i + 1);
        expect(typo).not.toBe(text);
        const e = addressError(typo);
        expect(e.code).toBe(ErrorCode.ADDRESS_INVALID);
        expect(e.field).toBe('address');
      }),
      { numRuns: 300 },
    );
  });

  it('wrong prefix, wrong length, mixed case and garbage are rejected', () => {
    const a = new Uint8Array(20).fill(7);
    expect(addressError(bech32.encode('cosmos', bech32.toWords(a))).code).toBe(ErrorCode.ADDRESS_INVALID);
    expect(addressError(bech32.encode('joul', bech32.toWords(a))).code).toBe(ErrorCode.ADDRESS_INVALID);
    expect(addressError(bech32.encode('joule', bech32.toWords(new Uint8Array(32)))).code).toBe(ErrorCode.ADDRESS_INVALID);
    const text = formatAddress(a);
    expect(addressError(text.slice(0, 8) + text[8]!.toUpperCase() + text.slice(9)).code).toBe(ErrorCode.ADDRESS_INVALID);
    expect(addressError('').code).toBe(ErrorCode.ADDRESS_INVALID);
    expect(addressError('joule1').code).toBe(ErrorCode.ADDRESS_INVALID);
    expect(addressError('0x' + toHex(a)).code).toBe(ErrorCode.ADDRESS_INVALID);
    expect(addressError(text.slice(0, -1)).code).toBe(ErrorCode.ADDRESS_INVALID);
    expect(() => parseAddress('nope', 'tx.to')).toThrow(/^tx\.to: /);
  });
});
