import { beforeEach, describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import { formatAddress } from '../../core/keys.ts';
import { ValidatorSet } from '../../core/validators.ts';
import { createFakeNode, fakeValidator, rpcCaller, type FakeNode } from '../testing/fake-node.ts';

let node: FakeNode;
let call: ReturnType<typeof rpcCaller>;

beforeEach(() => {
  node = createFakeNode();
  call = rpcCaller(node);
});

describe('joule_getValidators', () => {
  it('returns the current set (certifying the next block) with indexes in set order', async () => {
    const r = (await call('joule_getValidators', [])).result;
    const set = node.validatorSet;
    expect(r.height).toBe(1);
    expect(r.hash).toBe('0x' + toHex(set.hash));
    expect(r.quorum).toBe(3);
    expect(r.validators).toHaveLength(4);
    expect(r.validators[2]).toEqual({
      index: 2,
      name: set.at(2).name,
      address: formatAddress(set.at(2).address),
      identityKey: '0x' + toHex(set.at(2).identityKey),
      blsKey: '0x' + toHex(set.at(2).blsKey),
    });
    expect((await call('joule_getValidators')).result).toEqual(r);
    expect((await call('joule_getValidators', ['latest'])).result).toEqual(r);
  });

  it('by height; null for an unknown height; bad params are -32602', async () => {
    expect((await call('joule_getValidators', [0])).result.height).toBe(0);
    expect((await call('joule_getValidators', [99])).result).toBeNull();
    expect((await call('joule_getValidators', [-1])).error.code).toBe(-32602);
    expect((await call('joule_getValidators', [1, 2])).error.code).toBe(-32602);
  });

  it('follows a changed set', async () => {
    node.validatorSet = new ValidatorSet([0, 1, 2, 3, 4].map(fakeValidator));
    expect((await call('joule_getValidators', [])).result.validators).toHaveLength(5);
  });

  it('is UNAVAILABLE on a node that does not serve it', async () => {
    const bare: FakeNode = { ...node, getValidators: undefined, listEvidence: undefined, listValidatorProposals: undefined };
    call = rpcCaller(bare);
    for (const m of ['joule_getValidators', 'joule_getEvidence', 'joule_getValidatorVotes']) {
      const e = (await call(m, [])).error;
      expect(e.code).toBe(-32000);
      expect(e.data.code).toBe('UNAVAILABLE');
    }
  });
});

describe('joule_getEvidence', () => {
  it('lists included evidence with offset and limit', async () => {
    const author = node.validatorSet.at(1).address;
    for (let i = 0; i < 3; i++) node.evidence.push({ id: new Uint8Array(32).fill(i), height: 10 + i, round: i, kind: i, author, includedAt: 20 + i });
    const r = (await call('joule_getEvidence', [])).result;
    expect(r.total).toBe(3);
    expect(r.offset).toBe(0);
    expect(r.evidence[1]).toEqual({ id: '0x' + '01'.repeat(32), author: formatAddress(author), height: 11, round: 1, kind: 'PREPARE', includedAt: 21 });
    const page = (await call('joule_getEvidence', [2, 5])).result;
    expect(page.evidence.map((e: { height: number }) => e.height)).toEqual([12]);
    expect((await call('joule_getEvidence', [0, 0])).error.code).toBe(-32602);
    // Issue 8: "latest" is a height, not an offset or a limit.
    expect((await call('joule_getEvidence', ['latest'])).error.data.field).toBe('params[0]');
    expect((await call('joule_getEvidence', [0, 'latest'])).error.data.field).toBe('params[1]');
    expect((await call('joule_getEvidence', [0, 101])).error.code).toBe(-32602);
  });
});

describe('joule_getValidatorVotes', () => {
  it('lists pending proposals with live votes and the majority needed', async () => {
    const cand = fakeValidator(9);
    const gone = fakeValidator(8).address; // a voter no longer in the set does not count
    node.proposals.push({
      id: new Uint8Array(32).fill(7),
      action: 0,
      name: cand.name,
      identityKey: cand.identityKey,
      blsKey: cand.blsKey,
      voters: [node.validatorSet.at(0).address, gone],
    });
    const r = (await call('joule_getValidatorVotes', [])).result;
    expect(r.proposals).toEqual([
      {
        id: '0x' + '07'.repeat(32),
        action: 'add',
        name: 'fake-9',
        address: formatAddress(cand.address),
        identityKey: '0x' + toHex(cand.identityKey),
        blsKey: '0x' + toHex(cand.blsKey),
        voters: [formatAddress(node.validatorSet.at(0).address), formatAddress(gone)],
        votes: 1,
        needed: 3,
      },
    ]);
  });
});
