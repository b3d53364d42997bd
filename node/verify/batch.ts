import * as blst from '@chainsafe/blst';
import { BLS_SIGNATURE_LENGTH, blsPublicKey, blsSignature } from '../../core/keys.ts';
import { verifySignatureSet, type SignatureSet } from '../../core/signature-sets.ts';

/**
 * Verification of a batch of signature sets on the calling thread (a pool worker, or the
 * same-thread service): the indexes of the sets that do not verify, ascending.
 *
 * Each family is checked its own way. Ed25519 (node:crypto has no batch verification) and
 * BLS aggregates over distinct messages are checked one by one, so their verdicts are
 * exact at no extra cost. BLS sets over one message (single signatures, and fast aggregates
 * once their keys are summed) are checked together with one randomised multi-pairing
 * (blst verifyMultipleAggregateSignatures: n+1 pairings instead of 2n); when that fails the
 * group is bisected, so one bad signature among n costs about 2 log2(n) extra checks.
 * The verdict of every set is the one core/signature-sets.ts verifySignatureSet gives (up
 * to the 2^-64 chance a random combination hides a bad signature).
 */

/**
 * Single-message BLS sets judged as one sum (VerificationService.findInvalidTogether): the
 * indexes to drop so that the rest verify together, ascending, and the rest's signatures
 * added up. Each signature is decoded without its subgroup check (0.06 ms a signature
 * saved); the sum of a group is subgroup-checked once and aggregate-verified (n+1
 * pairings, no random scalars: the ceiling's unit); a failed group is bisected the same way,
 * and a group of one is a full single verification. The rest are the union of groups that
 * each verified, so their sum verifies; but a set kept need not verify alone (two
 * signatures whose errors cancel pass as a pair). A caller that splits the rest must verify
 * what it takes out (node/ingress/batch-gate.ts).
 */
export function judgeTogether(sets: readonly SignatureSet[], counter: CheckCounter = { checks: 0 }): JobVerdict {
  const invalid: number[] = [];
  const group: Pairing[] = [];
  sets.forEach((set, index) => {
    const pairing = set.kind === 'bls' ? summand(set.publicKey, set.message, set.signature) : undefined;
    if (pairing === undefined) invalid.push(index);
    else group.push({ index, set: pairing });
  });
  if (group.length === 0) return { invalid, sum: undefined };
  const whole = sumIfValid(group, counter);
  // Everything verified: the sum just checked is the rest's. Otherwise the kept ones' points are added again (additions only, no decoding).
  if (whole !== undefined) return { invalid, sum: whole.toBytes(true) };
  bisect(group, (g) => sumIfValid(g, counter) !== undefined, invalid);
  const out = new Set(invalid);
  const kept = group.filter((p) => !out.has(p.index));
  const sum =
    kept.length === 0
      ? undefined
      : blst
          .aggregateSignatures(
            kept.map((p) => p.set.sig),
            false,
          )
          .toBytes(true);
  return { invalid: invalid.sort((a, b) => a - b), sum };
}

/**
 * A verification job's verdict: the indexes of the sets that failed, ascending, and for a
 * job judged as one sum (judgeTogether) the kept sets' signatures added up, compressed
 * (undefined when none is kept, and for a job judged set by set).
 */
export interface JobVerdict {
  readonly invalid: number[];
  readonly sum: Uint8Array | undefined;
}

/** A key (validated, cached) and a signature decoded without its subgroup check. */
function summand(publicKey: Uint8Array, msg: Uint8Array, signature: Uint8Array): blst.SignatureSet | undefined {
  const pk = blsPublicKey(publicKey);
  if (pk === undefined || signature.length !== BLS_SIGNATURE_LENGTH) return undefined;
  try {
    return { msg, pk, sig: blst.Signature.fromBytes(signature, false) };
  } catch {
    return undefined;
  }
}

/** The group's signatures added up, if that sum verifies as the group's aggregate. */
function sumIfValid(group: readonly Pairing[], counter: CheckCounter): blst.Signature | undefined {
  counter.checks++;
  try {
    if (group.length === 1) {
      const { msg, pk, sig } = group[0]!.set;
      return blst.verify(msg, pk, sig, false, true) ? sig : undefined;
    }
    const sum = blst.aggregateSignatures(
      group.map((p) => p.set.sig),
      false,
    );
    const valid = blst.aggregateVerify(
      group.map((p) => p.set.msg),
      group.map((p) => p.set.pk),
      sum,
      false,
      true,
    );
    return valid ? sum : undefined;
  } catch {
    return undefined;
  }
}

/** Counts the checks made (one per single verification or multi-pairing), for tests and metrics. */
export interface CheckCounter {
  checks: number;
}

interface Pairing {
  readonly index: number;
  readonly set: blst.SignatureSet;
}

/** A BLS set over one message as (message, key, signature) objects; undefined when a key or the signature is malformed. */
function pairingOf(set: SignatureSet): blst.SignatureSet | undefined {
  if (set.kind !== 'bls' && set.kind !== 'bls-fast-aggregate') return undefined;
  const sig = blsSignature(set.signature);
  if (sig === undefined) return undefined;
  if (set.kind === 'bls') {
    const pk = blsPublicKey(set.publicKey);
    return pk === undefined ? undefined : { msg: set.message, pk, sig };
  }
  if (set.publicKeys.length === 0) return undefined;
  const pks: blst.PublicKey[] = [];
  for (const bytes of set.publicKeys) {
    const pk = blsPublicKey(bytes);
    if (pk === undefined) return undefined;
    pks.push(pk);
  }
  try {
    return { msg: set.message, pk: pks.length === 1 ? pks[0]! : blst.aggregatePublicKeys(pks, false), sig };
  } catch {
    return undefined;
  }
}

function checkGroup(group: readonly Pairing[], counter: CheckCounter): boolean {
  counter.checks++;
  try {
    if (group.length === 1) return blst.verify(group[0]!.set.msg, group[0]!.set.pk, group[0]!.set.sig);
    return blst.verifyMultipleAggregateSignatures(group.map((p) => p.set));
  } catch {
    return false;
  }
}

/** `group` failed `check`: halve it until each bad one stands alone. */
function bisect(group: readonly Pairing[], check: (g: readonly Pairing[]) => boolean, out: number[]): void {
  if (group.length === 1) {
    out.push(group[0]!.index);
    return;
  }
  const mid = group.length >> 1;
  const left = group.slice(0, mid);
  const right = group.slice(mid);
  if (check(left)) {
    bisect(right, check, out); // the left half is good, so the bad one is on the right
    return;
  }
  bisect(left, check, out);
  if (!check(right)) bisect(right, check, out);
}

export function findInvalidSets(sets: readonly SignatureSet[], counter: CheckCounter = { checks: 0 }): number[] {
  const invalid: number[] = [];
  const group: Pairing[] = [];
  for (let i = 0; i < sets.length; i++) {
    const set = sets[i]!;
    if (set.kind === 'bls' || set.kind === 'bls-fast-aggregate') {
      const pairing = pairingOf(set);
      if (pairing === undefined) invalid.push(i);
      else group.push({ index: i, set: pairing });
      continue;
    }
    counter.checks++;
    if (!verifySignatureSet(set)) invalid.push(i);
  }
  const check = (g: readonly Pairing[]) => checkGroup(g, counter);
  if (group.length > 0 && !check(group)) bisect(group, check, invalid);
  return invalid.sort((a, b) => a - b);
}

/** A job's verdict: `together` as judgeTogether judges it, else as findInvalidSets does. */
export function judgeSets(sets: readonly SignatureSet[], together: boolean, counter: CheckCounter = { checks: 0 }): JobVerdict {
  return together ? judgeTogether(sets, counter) : { invalid: findInvalidSets(sets, counter), sum: undefined };
}

/**
 * A worker message's sets: the ranges [start, end) in `together` each judged as one sum
 * (judgeTogether: `sums` holds each range's sum, in order), every other set as
 * findInvalidSets judges it (all of them in one multi-pairing). `invalid`: indexes of the
 * whole message, ascending.
 */
export function judgeMessage(
  sets: readonly SignatureSet[],
  together: readonly (readonly [number, number])[],
  counter: CheckCounter = { checks: 0 },
): { readonly invalid: number[]; readonly sums: (Uint8Array | undefined)[] } {
  if (together.length === 0) return { invalid: findInvalidSets(sets, counter), sums: [] };
  const invalid: number[] = [];
  const sums: (Uint8Array | undefined)[] = [];
  const inRange = new Uint8Array(sets.length);
  for (const [start, end] of together) {
    inRange.fill(1, start, end);
    const verdict = judgeTogether(sets.slice(start, end), counter);
    for (const i of verdict.invalid) invalid.push(start + i);
    sums.push(verdict.sum);
  }
  const others: number[] = [];
  for (let i = 0; i < sets.length; i++) if (inRange[i] === 0) others.push(i);
  if (others.length > 0)
    for (const i of findInvalidSets(
      others.map((i) => sets[i]!),
      counter,
    ))
      invalid.push(others[i]!);
  return { invalid: invalid.sort((a, b) => a - b), sums };
}
