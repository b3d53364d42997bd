import * as blst from '@chainsafe/blst';
import { blsPublicKey, blsSignature } from '../../core/keys.ts';
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

/** `group` is known to hold a bad signature: halve it until each bad one stands alone. */
function bisect(group: readonly Pairing[], counter: CheckCounter, out: number[]): void {
  if (group.length === 1) {
    out.push(group[0]!.index);
    return;
  }
  const mid = group.length >> 1;
  const left = group.slice(0, mid);
  const right = group.slice(mid);
  if (checkGroup(left, counter)) {
    bisect(right, counter, out); // the left half is good, so the bad one is on the right
    return;
  }
  bisect(left, counter, out);
  if (!checkGroup(right, counter)) bisect(right, counter, out);
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
  if (group.length > 0 && !checkGroup(group, counter)) bisect(group, counter, invalid);
  return invalid.sort((a, b) => a - b);
}
