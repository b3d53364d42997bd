import { describe, expect, it } from 'vitest';
import { encodeReceipt } from '../core/block.ts';
import { equalBytes, toHex } from '../core/bytes.ts';
import { encode } from '../core/codec.ts';
import { JouleError } from '../core/errors.ts';
import { DEFAULT_PARAMS } from '../core/params.ts';
import { signProofOfPossession } from '../core/pop.ts';
import { buildValidatorVote, decodeValidatorVoteBody, type BuildValidatorVoteArgs } from '../core/tx/validator-vote.ts';
import type { Tx } from '../core/tx.ts';
import { MAX_VALIDATORS, ValidatorSet, type Validator } from '../core/validators.ts';
import { sha256 } from '../core/hash.ts';
import { addressFromPublicKey } from '../core/keys.ts';
import { utf8 } from '../core/bytes.ts';
import { testValidator, testValidators, type TestValidator } from '../consensus/testing/fixtures.ts';
import { StateOverlay } from '../state/overlay.ts';
import { getValidatorSet, putValidatorSet } from '../state/validator-set.ts';
import { listProposals, pendingProposalIds } from '../state/validator-votes.ts';
import { executeBlock } from './executor.ts';
import { MemoryState } from './testing/fixtures.ts';
import type { BlockContext, BlockResult } from './types.ts';
import { checkTx } from './validity.ts';

const chainId = 'joule-test';
const opts = {}; // verify every tx
const candidate = testValidator(0, 'candidate');
const outsider = testValidator(0, 'outsider');

function chain(n: number) {
  const { keys, set } = testValidators(n);
  const state = new MemoryState();
  const o = new StateOverlay(state);
  putValidatorSet(o, set);
  state.apply(o.changes());
  for (const k of [...keys, outsider]) state.setAccount(k.validator.address, { balance: 1_000_000n });
  const nonces = new Map<string, number>();
  let height = 1;
  const ctx = (): BlockContext => ({ chainId, params: DEFAULT_PARAMS, height, timestamp: 1_700_000_000_000 + height, proposer: keys[0]!.validator.address });
  const vote = (voter: TestValidator, action: 'add' | 'remove', v: Validator, pop?: Uint8Array): Tx => {
    const id = toHex(voter.validator.address);
    const nonce = nonces.get(id) ?? 0;
    nonces.set(id, nonce + 1);
    const validator: BuildValidatorVoteArgs['validator'] = action === 'add' ? { ...v, blsProofOfPossession: pop ?? popOf(candidateFor(v)) } : v;
    return buildValidatorVote({ chainId, seed: voter.seed, nonce, fee: 25n, action, validator });
  };
  const block = (...txs: Tx[]): BlockResult => {
    const r = executeBlock(state, txs, ctx(), opts);
    state.apply(r.changes);
    height++;
    return r;
  };
  // Checks only: the builder's nonce counter runs ahead of state for txs that never get in.
  const check = (tx: Tx): void => checkTx(state, tx, ctx(), { allowFutureNonce: true });
  return { keys, set, state, vote, block, check, set_: () => getValidatorSet(state)! };
}

const ctx4 = (): BlockContext => ({ chainId, params: DEFAULT_PARAMS, height: 1, timestamp: 1_700_000_000_001, proposer: new Uint8Array(20) });

const byValidator = new Map<Validator, TestValidator>([
  [candidate.validator, candidate],
  [outsider.validator, outsider],
]);
function candidateFor(v: Validator): TestValidator {
  return byValidator.get(v) ?? candidate;
}
function popOf(k: TestValidator): Uint8Array {
  return signProofOfPossession(chainId, k.blsSecret, k.validator.blsKey, k.validator.identityKey);
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof JouleError) return `${e.code} ${e.message}`;
    throw e;
  }
  return 'ok';
}

const eventTypes = (r: BlockResult): string[] => r.receipts.flatMap((rc) => rc.events.map((e) => e.type));

describe('validator-vote: validity', () => {
  it('is unauthorized for a sender outside the current set', () => {
    const c = chain(4);
    expect(codeOf(() => c.check(c.vote(outsider, 'add', candidate.validator)))).toMatch(/^TX_UNAUTHORIZED .*not a current validator/);
  });

  it('rejects an add whose proof of possession does not verify (other chain, other key)', () => {
    const c = chain(4);
    const wrongChain = signProofOfPossession('other-chain', candidate.blsSecret, candidate.validator.blsKey, candidate.validator.identityKey);
    expect(codeOf(() => c.check(c.vote(c.keys[0]!, 'add', candidate.validator, wrongChain)))).toMatch(/^TX_BAD_SIGNATURE/);
    const otherIdentity = signProofOfPossession(chainId, candidate.blsSecret, candidate.validator.blsKey, outsider.validator.identityKey);
    expect(codeOf(() => c.check(c.vote(c.keys[0]!, 'add', candidate.validator, otherIdentity)))).toMatch(/^TX_BAD_SIGNATURE/);
    expect(codeOf(() => c.check(c.vote(c.keys[0]!, 'add', candidate.validator)))).toBe('ok');
  });

  // Issue 6, finding 5: the proof of possession is a validity rule of block execution,
  // not only of admission; only a tx this node verified itself (by hash) may skip it.
  it('an add with a garbage proof of possession makes a block invalid, unless this node verified that very tx', () => {
    const c = chain(4);
    const garbage = c.vote(c.keys[0]!, 'add', candidate.validator, new Uint8Array(96).fill(7));
    expect(codeOf(() => executeBlock(c.state, [garbage], ctx4()))).toMatch(/^BLOCK_INVALID .*TX_BAD_SIGNATURE: .*signature inside the body/);
    expect(codeOf(() => executeBlock(c.state, [garbage], ctx4(), { verified: (h) => !equalBytes(h, garbage.hash) }))).toMatch(/^BLOCK_INVALID/);
    expect(executeBlock(c.state, [garbage], ctx4(), { verified: (h) => equalBytes(h, garbage.hash) }).receipts).toHaveLength(1);
    // Skipping the signatures skips nothing else: an outsider's vote stays unauthorized.
    const intruder = c.vote(outsider, 'add', candidate.validator, new Uint8Array(96).fill(7));
    expect(codeOf(() => executeBlock(c.state, [intruder], ctx4(), { verified: () => true }))).toMatch(/^BLOCK_INVALID .*TX_UNAUTHORIZED/);
  });

  it('rejects invalid keys, an existing member, a reused BLS key or name', () => {
    const c = chain(4);
    const badBls = { ...candidate.validator, blsKey: new Uint8Array(48).fill(1) };
    expect(codeOf(() => c.check(c.vote(c.keys[0]!, 'add', badBls, new Uint8Array(96))))).toMatch(/^TX_INVALID_FIELD tx.body.blsKey/);
    const member = c.keys[1]!;
    expect(codeOf(() => c.check(c.vote(c.keys[0]!, 'add', member.validator, popOf(member))))).toMatch(/already a validator/);
    const sameName = { ...candidate.validator, name: member.validator.name };
    expect(codeOf(() => c.check(c.vote(c.keys[0]!, 'add', sameName, popOf(candidate))))).toMatch(/^TX_INVALID_FIELD tx.body.name/);
  });

  it('rejects a remove of a non-member, with the wrong name or BLS key, and of the last validator', () => {
    const c = chain(4);
    expect(codeOf(() => c.check(c.vote(c.keys[0]!, 'remove', candidate.validator)))).toMatch(/is not a validator/);
    const target = c.keys[3]!.validator;
    expect(codeOf(() => c.check(c.vote(c.keys[0]!, 'remove', { ...target, name: 'someone' })))).toMatch(/tx.body.name/);
    expect(codeOf(() => c.check(c.vote(c.keys[0]!, 'remove', { ...target, blsKey: c.keys[2]!.validator.blsKey })))).toMatch(/tx.body.blsKey/);
    const solo = chain(1);
    expect(codeOf(() => solo.check(solo.vote(solo.keys[0]!, 'remove', solo.keys[0]!.validator)))).toMatch(
      /^TX_INVALID_FIELD .*cannot remove the last validator/,
    );
  });

  // Genesis caps the set at MAX_VALIDATORS; votes grew it past that (above 1,536 a round
  // change's justification, a quorum of ROUND-CHANGEs, exceeds what a node decodes: a halt).
  it('refuses an add once the set holds MAX_VALIDATORS', () => {
    const c = chain(3);
    const fake = (i: number): Validator => {
      const identityKey = sha256(utf8(`fake-validator/${i}`));
      return {
        name: `fake-${i}`,
        address: addressFromPublicKey(identityKey),
        identityKey,
        blsKey: new Uint8Array(48).fill(i % 251).map((b, j) => (j < 4 ? (i >> (8 * j)) & 0xff : b)),
      };
    };
    const fill = (n: number) => {
      const o = new StateOverlay(c.state);
      putValidatorSet(o, new ValidatorSet([...c.set.validators, ...Array.from({ length: n - c.set.size }, (_, i) => fake(i))]));
      c.state.apply(o.changes());
    };
    fill(MAX_VALIDATORS - 1);
    expect(codeOf(() => c.check(c.vote(c.keys[0]!, 'add', candidate.validator)))).toBe('ok');
    fill(MAX_VALIDATORS);
    expect(codeOf(() => c.check(c.vote(c.keys[1]!, 'add', candidate.validator)))).toMatch(/^TX_INVALID_FIELD tx.body: .*most validators, 1024/);
    // A remove is still possible.
    expect(codeOf(() => c.check(c.vote(c.keys[1]!, 'remove', c.keys[2]!.validator)))).toBe('ok');
  });

  it('rejects a second vote by the same validator for the same proposal', () => {
    const c = chain(4);
    c.block(c.vote(c.keys[0]!, 'add', candidate.validator));
    expect(codeOf(() => c.check(c.vote(c.keys[0]!, 'add', candidate.validator)))).toMatch(/already voted for this proposal/);
  });

  it('the body codec round-trips and an add needs a 96-byte proof, a remove an empty one', () => {
    const c = chain(1);
    const tx = c.vote(c.keys[0]!, 'add', candidate.validator);
    expect(encode(Object.values(decodeValidatorVoteBody(tx.body)) as never)).toEqual(tx.body);
    expect(() => buildValidatorVote({ chainId, seed: candidate.seed, nonce: 0, fee: 25n, action: 'add', validator: candidate.validator })).toThrow(
      /must be 96 bytes for add/,
    );
  });
});

describe('validator-vote: tally and change', () => {
  it('4 validators: 2 votes change nothing, the 3rd (floor(4/2)+1) adds the validator and emits the event', () => {
    const c = chain(4);
    const r1 = c.block(c.vote(c.keys[0]!, 'add', candidate.validator), c.vote(c.keys[1]!, 'add', candidate.validator));
    expect(r1.receipts.every((r) => r.success)).toBe(true);
    expect(eventTypes(r1)).toEqual(['validator-vote', 'validator-vote']);
    expect(c.set_().size).toBe(4);
    expect(listProposals(c.state)[0]!.voters).toHaveLength(2);

    const r2 = c.block(c.vote(c.keys[2]!, 'add', candidate.validator));
    expect(eventTypes(r2)).toEqual(['validator-vote', 'validator-set-changed']);
    const changed = Object.fromEntries(r2.receipts[0]!.events[1]!.attributes);
    expect(changed).toMatchObject({ action: 'add', name: candidate.validator.name, votes: '3', size: '5', effectiveHeight: '3' });
    const set = c.set_();
    expect(set.size).toBe(5);
    expect(set.has(candidate.validator.address)).toBe(true);
    expect(pendingProposalIds(c.state)).toEqual([]);
  });

  it('remove likewise: 3 of 4 remove a validator; it can no longer vote', () => {
    const c = chain(4);
    const target = c.keys[3]!;
    c.block(c.vote(c.keys[0]!, 'remove', target.validator), c.vote(c.keys[1]!, 'remove', target.validator));
    expect(c.set_().size).toBe(4);
    const r = c.block(c.vote(c.keys[2]!, 'remove', target.validator));
    expect(eventTypes(r)).toContain('validator-set-changed');
    expect(c.set_().size).toBe(3);
    expect(c.set_().has(target.validator.address)).toBe(false);
    expect(codeOf(() => c.check(c.vote(target, 'add', candidate.validator)))).toMatch(/^TX_UNAUTHORIZED/);
  });

  it("a removed validator's vote stops counting, and a proposal that now has a majority applies at once", () => {
    const c = chain(4);
    const [a, b, cc, d] = c.keys as [TestValidator, TestValidator, TestValidator, TestValidator];
    // Proposal P (add candidate) has votes from A and D; proposal Q (add outsider) from A and B.
    c.block(c.vote(a, 'add', candidate.validator), c.vote(d, 'add', candidate.validator));
    c.block(c.vote(a, 'add', outsider.validator, popOf(outsider)), c.vote(b, 'add', outsider.validator, popOf(outsider)));
    // Remove D: the set shrinks to 3 (majority 2). Q (A, B) now has a majority: applied in the same tx.
    // P keeps only A's live vote (D's is dropped), so it stays pending.
    c.block(c.vote(a, 'remove', d.validator), c.vote(b, 'remove', d.validator));
    const r = c.block(c.vote(cc, 'remove', d.validator));
    expect(eventTypes(r)).toEqual(['validator-vote', 'validator-set-changed', 'validator-set-changed']);
    const set = c.set_();
    expect(set.size).toBe(4); // A, B, C, outsider
    expect(set.has(outsider.validator.address)).toBe(true);
    expect(set.has(d.validator.address)).toBe(false);
    const pending = listProposals(c.state);
    expect(pending).toHaveLength(1);
    expect(pending[0]!.voters.map(toHex)).toEqual([toHex(a.validator.address)]);
  });

  it('one validator alone changes the set with its own vote', () => {
    const c = chain(1);
    const r = c.block(c.vote(c.keys[0]!, 'add', candidate.validator));
    expect(eventTypes(r)).toEqual(['validator-vote', 'validator-set-changed']);
    expect(c.set_().size).toBe(2);
  });

  it('re-execution is deterministic (same receipts, same state changes, byte for byte)', () => {
    const run = (): string[] => {
      const c = chain(4);
      const out: string[] = [];
      const record = (r: BlockResult) => out.push(toHex(encode([r.receipts.map(encodeReceipt), r.changes.map((x) => [x.key, x.value ?? null])])));
      record(c.block(c.vote(c.keys[3]!, 'add', candidate.validator), c.vote(c.keys[1]!, 'remove', c.keys[0]!.validator)));
      record(c.block(c.vote(c.keys[0]!, 'add', candidate.validator), c.vote(c.keys[2]!, 'add', candidate.validator)));
      record(c.block(c.vote(c.keys[2]!, 'remove', c.keys[0]!.validator), c.vote(c.keys[3]!, 'remove', c.keys[0]!.validator)));
      out.push(toHex(c.set_().hash));
      return out;
    };
    const a = run();
    expect(run()).toEqual(a);
  });
});
