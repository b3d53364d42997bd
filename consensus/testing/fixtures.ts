/**
 * Test-only fixtures shared by the consensus tests: deterministic validator keys, real
 * signatures with caches (signing is deterministic for Ed25519 and BLS, so a cache changes
 * nothing but speed), and tiny blocks.
 */
import { encodeBlock, type Block } from '../../core/block.ts';
import { utf8 } from '../../core/bytes.ts';
import { ZERO_HASH, sha256 } from '../../core/hash.ts';
import { addressFromPublicKey, blsFromSecret, blsSign, ed25519FromSeed, ed25519Sign } from '../../core/keys.ts';
import { ValidatorSet, type Validator } from '../../core/validators.ts';
import { defaultCrypto, type ConsensusCrypto, type Signer } from '../crypto.ts';

export const CHAIN_ID = 'joule-test';

export interface TestValidator {
  readonly validator: Validator;
  readonly seed: Uint8Array;
  readonly blsSecret: Uint8Array;
  readonly signer: Signer;
}

const latin1 = (...parts: Uint8Array[]): string => parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('latin1')).join('|');

const signCache = new Map<string, Uint8Array>();
function cached(key: string, make: () => Uint8Array): Uint8Array {
  let v = signCache.get(key);
  if (v === undefined) {
    if (signCache.size > 400_000) signCache.clear();
    signCache.set(key, (v = make()));
  }
  return v;
}

/**
 * Every (kind, public key, signature, message) these fixtures signed. Signing is deterministic
 * and correct (core/keys.ts's own tests), so such a triple verifies; cachingCrypto answers
 * it without the curve arithmetic and verifies for real only what no fixture signed (a
 * tampered or forged signature). The answer is the same; the simulation spends half its
 * time in verification otherwise.
 */
const signed = new Set<string>();
function remember(kind: 'v' | 'b', publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Uint8Array {
  if (signed.size > 400_000) signed.clear();
  signed.add(`${kind}${latin1(publicKey, signature, message)}`);
  return signature;
}

const keyCache = new Map<string, TestValidator>();

/** Deterministic validator number `i` (same keys in every test run). */
export function testValidator(i: number, label = 'v'): TestValidator {
  const id = `${label}${i}`;
  const hit = keyCache.get(id);
  if (hit !== undefined) return hit;
  const ed = ed25519FromSeed(sha256(utf8(`ed25519:${id}`)));
  const blsSecret = sha256(utf8(`bls:${id}`));
  blsSecret[0] = 0x11; // below the BLS12-381 group order
  const bls = blsFromSecret(blsSecret);
  const validator: Validator = { name: id, address: addressFromPublicKey(ed.publicKey), identityKey: ed.publicKey, blsKey: bls.publicKey };
  const signer: Signer = {
    address: validator.address,
    sign: (b) => cached(`e${id}|${latin1(b)}`, () => remember('v', ed.publicKey, b, ed25519Sign(ed.seed, b))),
    blsSign: (b) => cached(`b${id}|${latin1(b)}`, () => remember('b', bls.publicKey, b, blsSign(bls.secretKey, b))),
  };
  const tv = { validator, seed: ed.seed, blsSecret: bls.secretKey, signer };
  keyCache.set(id, tv);
  return tv;
}

export function testValidators(n: number, label = 'v'): { keys: TestValidator[]; set: ValidatorSet } {
  const keys = Array.from({ length: n }, (_, i) => testValidator(i, label));
  const set = new ValidatorSet(keys.map((k) => k.validator));
  // Index keys like the sorted set, so keys[i] is validator i of the set.
  keys.sort((a, b) => set.indexOf(a.validator.address) - set.indexOf(b.validator.address));
  return { keys, set };
}

/**
 * Real verification through core/keys.ts, memoised by exact inputs. An aggregate this
 * object built is checked as the conjunction of its (memoised) parts: the aggregate of
 * signatures that each verify on one message verifies for the aggregate key, and one bad
 * part makes it fail, so the answer is the same as one fast-aggregate-verify, and each
 * seal is verified once across all simulated nodes instead of once per node. Aggregates
 * this object did not build go through the real blsFastAggregateVerify.
 */
export function cachingCrypto(): ConsensusCrypto & { calls: { verify: number; bls: number } } {
  const cache = new Map<string, boolean>();
  const parts = new Map<string, readonly Uint8Array[]>();
  const calls = { verify: 0, bls: 0 };
  const memo = (key: string, run: () => boolean): boolean => {
    // Keys are `${kind}${latin1(pk, sig, msg)}` for single verifications, as `signed` holds them.
    if (signed.has(key)) return true;
    let v = cache.get(key);
    if (v === undefined) {
      if (cache.size > 400_000) cache.clear();
      cache.set(key, (v = run()));
    }
    return v;
  };
  const blsVerify = (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean =>
    memo(`b${latin1(pk, sig, msg)}`, () => (calls.bls++, defaultCrypto.blsVerify(pk, msg, sig)));
  return {
    calls,
    verify: (pk, msg, sig) => memo(`v${latin1(pk, sig, msg)}`, () => (calls.verify++, defaultCrypto.verify(pk, msg, sig))),
    blsVerify,
    blsAggregate: (sigs) => {
      const agg = cached(`a${latin1(...sigs)}`, () => defaultCrypto.blsAggregate(sigs));
      if (parts.size > 100_000) parts.clear();
      parts.set(latin1(agg), [...sigs]);
      return agg;
    },
    blsFastAggregateVerify: (msg, pks, sig) =>
      memo(`f${latin1(msg, sig, ...pks)}`, () => {
        const p = parts.get(latin1(sig));
        if (p !== undefined && p.length === pks.length) return p.every((s, i) => blsVerify(pks[i]!, msg, s));
        calls.bls++;
        return defaultCrypto.blsFastAggregateVerify(msg, pks, sig);
      }),
  };
}

/**
 * A small real block built in `round` by `proposer` for the validator set `validatorSetHash`
 * (a block is valid, and can be prepared, only under the set it names): the digest
 * machinery (decodeBlock + blockHash) runs for real.
 */
export function testBlock(
  height: number,
  parentHash: Uint8Array | null,
  proposer: Uint8Array,
  salt: number,
  round: number,
  validatorSetHash: Uint8Array,
): Uint8Array {
  const block: Block = {
    header: {
      chainId: CHAIN_ID,
      height,
      round,
      parentHash: parentHash ?? ZERO_HASH,
      timestamp: 1_700_000_000_000 + height * 1000 + salt,
      proposer,
      txRoot: ZERO_HASH,
      stateRoot: ZERO_HASH,
      receiptsRoot: ZERO_HASH,
      validatorSetHash,
      txCount: 0,
      parentCertificate: null,
    },
    txs: [],
  };
  return encodeBlock(block);
}
