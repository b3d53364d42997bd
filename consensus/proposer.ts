import { compareBytes } from '../core/bytes.ts';
import type { Validator, ValidatorSet } from '../core/validators.ts';

/**
 * Round-robin proposer: index = (index of the previous block's proposer + round + 1) mod n
 * over the set sorted by address. If the previous proposer is no longer in the set (removed
 * by vote), rotation continues from the next validator in sorted order, i.e. from the first
 * address greater than the removed one. At height 1 (no previous proposer) round 0 starts
 * at index 0. Deterministic on every validator.
 */
export function proposerIndex(validators: ValidatorSet, previousProposer: Uint8Array | null, round: number): number {
  const n = validators.size;
  if (n === 0) throw new RangeError('empty validator set');
  let next: number; // index that would be proposer of round 0
  if (previousProposer === null) next = 0;
  else {
    const i = validators.indexOf(previousProposer);
    if (i >= 0) next = i + 1;
    else {
      next = 0;
      while (next < n && compareBytes(validators.at(next).address, previousProposer) < 0) next++;
    }
  }
  return (next + (round % n)) % n;
}

export function proposerOf(validators: ValidatorSet, previousProposer: Uint8Array | null, round: number): Validator {
  return validators.at(proposerIndex(validators, previousProposer, round));
}
