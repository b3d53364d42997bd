import { describe, expect, it } from 'vitest';
import { verifySignatureSet, type SignatureSet } from '../../core/signature-sets.ts';
import { findInvalidSets, judgeMessage, judgeTogether, type JobVerdict } from './batch.ts';
import { cancellingPair, spoil, validSet } from './testing/sets.ts';

describe('batch verification with bisection', () => {
  it('gives the verdict of verifying each set alone, for every kind and every way of spoiling one', () => {
    const kinds = ['ed25519', 'bls', 'bls-aggregate', 'bls-fast-aggregate'] as const;
    const spoils = ['message', 'signature', 'key', 'garbage-signature', 'short-key'] as const;
    const sets: SignatureSet[] = [];
    kinds.forEach((kind, k) => {
      sets.push(validSet(kind, k));
      spoils.forEach((how, s) => sets.push(spoil(validSet(kind, 10 * k + s), how)));
    });
    sets.push({ kind: 'bls-fast-aggregate', publicKeys: [], message: new Uint8Array([1]), signature: validSet('bls', 1).signature });
    const truth = sets.flatMap((s, i) => (verifySignatureSet(s) ? [] : [i]));
    expect(truth).toHaveLength(sets.length - kinds.length); // every spoiled set is invalid, every valid one valid
    expect(findInvalidSets(sets)).toEqual(truth);
  });

  it('finds the one bad BLS signature among 1,000 with O(log n) extra checks', () => {
    const sets = Array.from({ length: 1000 }, (_, i) => validSet('bls', i));
    const good = { checks: 0 };
    expect(findInvalidSets(sets, good)).toEqual([]);
    expect(good.checks).toBe(1); // one multi-pairing for all of them

    sets[613] = spoil(sets[613]!, 'message');
    const bad = { checks: 0 };
    expect(findInvalidSets(sets, bad)).toEqual([613]);
    // The failed batch, then per level of the halving at most both halves: 1 + 2 x ceil(log2 1000) = 21.
    expect(bad.checks).toBeLessThanOrEqual(1 + 2 * Math.ceil(Math.log2(1000)));
    expect(bad.checks).toBeGreaterThanOrEqual(1 + Math.floor(Math.log2(1000)));
  });

  it('finds several bad signatures, and Ed25519 sets cost one check each (no batch verification exists for them)', () => {
    const sets = Array.from({ length: 64 }, (_, i) => validSet(i % 2 === 0 ? 'bls' : 'ed25519', i));
    for (const i of [3, 10, 11, 40]) sets[i] = spoil(sets[i]!, 'signature');
    const counter = { checks: 0 };
    expect(findInvalidSets(sets, counter)).toEqual([3, 10, 11, 40]);
    // 32 Ed25519 singles; the 32 BLS sets: one multi-pairing, then at most 2 checks per halving level for each of the 2 bad.
    expect(counter.checks).toBeLessThanOrEqual(32 + 1 + 2 * 2 * Math.log2(32));
  });
});

/** Whether `verdict.sum` is the aggregate the sets it keeps verify as (single-message BLS sets). */
function sumVerifies(sets: readonly SignatureSet[], verdict: JobVerdict): boolean {
  const out = new Set(verdict.invalid);
  const kept = sets.filter((s, i) => !out.has(i) && s.kind === 'bls') as Extract<SignatureSet, { kind: 'bls' }>[];
  if (kept.length === 0) return verdict.sum === undefined;
  return (
    verdict.sum !== undefined &&
    verifySignatureSet({ kind: 'bls-aggregate', publicKeys: kept.map((s) => s.publicKey), messages: kept.map((s) => s.message), signature: verdict.sum })
  );
}

describe('verification of sets together (one sum)', () => {
  it("one aggregate check when all verify; one bad among 1,000 found with O(log n) extra checks; the sum is the rest's aggregate", () => {
    const sets = Array.from({ length: 1000 }, (_, i) => validSet('bls', i));
    const good = { checks: 0 };
    const all = judgeTogether(sets, good);
    expect(all.invalid).toEqual([]);
    expect(good.checks).toBe(1);
    expect(sumVerifies(sets, all)).toBe(true);
    sets[613] = spoil(sets[613]!, 'message');
    sets[7] = spoil(sets[7]!, 'garbage-signature');
    const bad = { checks: 0 };
    const rest = judgeTogether(sets, bad);
    expect(rest.invalid).toEqual([7, 613]);
    expect(bad.checks).toBeLessThanOrEqual(1 + 2 * 2 * Math.ceil(Math.log2(1000)));
    expect(sumVerifies(sets, rest)).toBe(true);
    expect(judgeTogether([spoil(validSet('bls', 1), 'signature')])).toEqual({ invalid: [0], sum: undefined });
  });

  it('keeps a pair whose errors cancel (the sum verifies), and names both once the pair is split', () => {
    const [a, b] = cancellingPair(1, 2);
    expect(verifySignatureSet(a)).toBe(false);
    expect(verifySignatureSet(b)).toBe(false);
    const others = Array.from({ length: 6 }, (_, i) => validSet('bls', 10 + i));
    const kept = judgeTogether([...others, a, b]);
    expect(kept.invalid).toEqual([]);
    expect(sumVerifies([...others, a, b], kept)).toBe(true);
    // Judged one by one, or apart (a bad set makes the bisection split them), each is found.
    expect(findInvalidSets([...others, a, b])).toEqual([6, 7]);
    const split = [a, ...others, b, spoil(validSet('bls', 20), 'signature')];
    const apart = judgeTogether(split);
    expect(apart.invalid).toEqual([0, 7, 8]);
    expect(sumVerifies(split, apart)).toBe(true);
  });

  it('names what is not a single-message BLS set, and a message of a worker judges its together ranges apart from the rest, with a sum for each', () => {
    const sets = [validSet('bls', 1), validSet('ed25519', 2), ...cancellingPair(3, 4), validSet('bls', 5), ...cancellingPair(6, 7), validSet('bls', 8)];
    expect(judgeTogether(sets.slice(0, 2)).invalid).toEqual([1]);
    // Sets 2-3 judged together (kept); 5-6 judged with the others one by one (both named); 7 together alone.
    const message = judgeMessage(sets, [
      [2, 4],
      [7, 8],
    ]);
    expect(message.invalid).toEqual([5, 6]);
    expect(message.sums).toHaveLength(2);
    expect(sumVerifies(sets.slice(2, 4), { invalid: [], sum: message.sums[0] })).toBe(true);
    expect(sumVerifies(sets.slice(7, 8), { invalid: [], sum: message.sums[1] })).toBe(true);
  });
});
