import { describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import { blsGenerate, ed25519Generate, formatAddress, addressFromPublicKey } from '../core/keys.ts';
import { generateDevnet, genesisHash, genesisToJson, genesisValidatorSet, parseGenesis, validateGenesis, type GenesisJson } from './index.ts';
import { signProofOfPossession } from '../core/pop.ts';

const devnet = generateDevnet({ validators: 4, accounts: 3, genesisTime: 1_750_000_000_000 });
const valid = (): GenesisJson => structuredClone(genesisToJson(devnet.genesis));

/** Applies an edit to a fresh valid genesis and returns the problems' paths and messages. */
function problemsAfter(edit: (g: any) => void): { path: string; message: string }[] {
  const g = valid();
  edit(g);
  return validateGenesis(g);
}

function expectProblem(edit: (g: any) => void, path: string, message?: RegExp): void {
  const problems = problemsAfter(edit);
  const hit = problems.find((p) => p.path === path);
  expect(hit, `expected a problem at ${path}, got ${JSON.stringify(problems)}`).toBeDefined();
  if (message) expect(hit!.message).toMatch(message);
}

describe('genesis validation', () => {
  it('accepts a generated devnet genesis and round-trips it', () => {
    expect(validateGenesis(valid())).toEqual([]);
    const g = parseGenesis(valid());
    expect(g.validators).toHaveLength(4);
    expect(g.accounts).toHaveLength(4 + 3);
    expect(toHex(genesisHash(g))).toBe(toHex(genesisHash(devnet.genesis)));
    expect(genesisValidatorSet(g).size).toBe(4);
    expect(g.accounts[4]!.roles).toContain('marketOperator');
  });

  it('fills omitted params from the defaults', () => {
    const g = valid() as any;
    delete g.params;
    const parsed = parseGenesis(g);
    expect(parsed.params.tiers.map((t) => t.name)).toEqual(['grid_balancing', 'peer_to_peer', 'carbon_credit']);
    expect(parsed.params.tiers[0]!.priorityMultiplierBps).toBe(20_000);
  });

  it('has a hash independent of formatting and validator/account order, but not of content', () => {
    const a = valid();
    const b = valid();
    b.validators.reverse();
    b.accounts.reverse();
    expect(toHex(genesisHash(parseGenesis(b)))).toBe(toHex(genesisHash(parseGenesis(a))));
    b.accounts[0]!.balance = '1';
    expect(toHex(genesisHash(parseGenesis(b)))).not.toBe(toHex(genesisHash(parseGenesis(a))));
  });

  it('reports top-level problems', () => {
    expect(validateGenesis(null)).toEqual([{ path: '$', message: expect.stringMatching(/object/) }]);
    expectProblem((g) => (g.chainId = 'Joule_Main'), 'chainId', /\[a-z0-9-\]/);
    expectProblem((g) => (g.chainId = 'a'.repeat(65)), 'chainId');
    expectProblem((g) => delete g.chainId, 'chainId', /missing/);
    expectProblem((g) => (g.genesisTime = 1_750_000_000), 'genesisTime', /seconds/);
    expectProblem((g) => (g.genesisTime = 1.5), 'genesisTime', /integer/);
    expectProblem((g) => (g.extra = 1), 'extra', /unknown field/);
    expectProblem((g) => (g.validators = []), 'validators', /at least one/);
    expectProblem((g) => delete g.validators, 'validators', /array/);
  });

  it('reports every validator problem with its path', () => {
    expectProblem((g) => (g.validators[2].blsKey = '0x1234'), 'validators[2].blsKey', /48 bytes/);
    expectProblem((g) => (g.validators[2].blsKey = `0x${'ab'.repeat(48)}`), 'validators[2].blsKey', /G1/);
    expectProblem((g) => (g.validators[1].identityKey = 'abc'), 'validators[1].identityKey', /hex/);
    expectProblem((g) => (g.validators[1].identityKey = `0x${'ff'.repeat(32)}`), 'validators[1].identityKey', /Ed25519/);
    expectProblem((g) => (g.validators[0].address = 'joule1qqqqqqqq'), 'validators[0].address');
    expectProblem((g) => (g.validators[0].address = g.accounts[6].address), 'validators[0].address', /does not match identityKey/);
    expectProblem((g) => (g.validators[3].name = 'validator-0'), 'validators[3].name', /duplicate name: same as validators\[0\]\.name/);
    expectProblem((g) => (g.validators[3].name = 'bad name!'), 'validators[3].name');
    expectProblem((g) => (g.validators[0].blsKeys = g.validators[0].blsKey), 'validators[0].blsKeys', /unknown field/);
    expectProblem((g) => (g.validators[1] = { ...g.validators[0] }), 'validators[1].address', /duplicate/);
    expectProblem((g) => (g.validators[1] = { ...g.validators[0] }), 'validators[1].identityKey', /duplicate/);
    expectProblem((g) => (g.validators[1] = { ...g.validators[0] }), 'validators[1].blsKey', /duplicate/);
    expectProblem((g) => (g.validators[0] = 7), 'validators[0]', /object/);
  });

  it('checks the BLS proof of possession (binding key, identity and chain)', () => {
    // Another validator's proof: valid signature, wrong key.
    expectProblem(
      (g) => (g.validators[0].blsProofOfPossession = g.validators[1].blsProofOfPossession),
      'validators[0].blsProofOfPossession',
      /does not verify/,
    );
    // A proof made for another chain id does not verify here.
    expectProblem((g) => (g.chainId = 'other-chain'), 'validators[0].blsProofOfPossession', /does not verify/);
    // A rogue key: the attacker uses someone's BLS key without its secret; any proof fails.
    const rogue = blsGenerate();
    const id = ed25519Generate();
    expectProblem((g) => {
      g.validators.push({
        name: 'rogue',
        address: formatAddress(addressFromPublicKey(id.publicKey)),
        identityKey: `0x${toHex(id.publicKey)}`,
        blsKey: g.validators[0].blsKey.replace(/..$/, '00'),
        blsProofOfPossession: `0x${toHex(signProofOfPossession('joule-devnet', rogue.secretKey, rogue.publicKey, id.publicKey))}`,
      });
    }, 'validators[4].blsKey');
    // A correctly self-signed newcomer is fine.
    expect(
      problemsAfter((g) =>
        g.validators.push({
          name: 'newcomer',
          address: formatAddress(addressFromPublicKey(id.publicKey)),
          identityKey: `0x${toHex(id.publicKey)}`,
          blsKey: `0x${toHex(rogue.publicKey)}`,
          blsProofOfPossession: `0x${toHex(signProofOfPossession('joule-devnet', rogue.secretKey, rogue.publicKey, id.publicKey))}`,
        }),
      ),
    ).toEqual([]);
  });

  // Found by the fuzzer (test/fuzz, target card): a chain id with a lone surrogate has no
  // encoding, and checking the proofs of possession against it threw CODEC_WRONG_TYPE out of
  // validation instead of listing the problem (a card was CODEC_WRONG_TYPE, not CARD_INVALID).
  it('a chain id that cannot be encoded is a problem on its field and on each proof, never a thrown codec error', () => {
    const problems = problemsAfter((g) => (g.chainId = 'joule-\ud800'));
    expect(problems.map((p) => p.path)).toEqual(['chainId', ...devnet.genesis.validators.map((_, i) => `validators[${i}].blsProofOfPossession`)]);
    expect(() => parseGenesis({ ...valid(), chainId: '\udc00' })).toThrow(expect.objectContaining({ code: 'GENESIS_INVALID' }));
  });

  it('reports account problems', () => {
    expectProblem((g) => (g.accounts[1].address = g.accounts[0].address), 'accounts[1].address', /duplicate address: same as accounts\[0\]\.address/);
    expectProblem(
      (g) => (g.accounts[0].address = g.accounts[0].address.slice(0, -1) + (g.accounts[0].address.endsWith('q') ? 'p' : 'q')),
      'accounts[0].address',
      /not a valid joule address/,
    );
    expectProblem((g) => (g.accounts[0].balance = 100), 'accounts[0].balance', /decimal string/);
    expectProblem((g) => (g.accounts[0].balance = '-1'), 'accounts[0].balance');
    expectProblem((g) => (g.accounts[0].balance = '1e6'), 'accounts[0].balance');
    expectProblem((g) => (g.accounts[0].balance = (2n ** 64n).toString()), 'accounts[0].balance', /uint64/);
    expectProblem((g) => g.accounts.forEach((a: any) => (a.balance = (2n ** 63n).toString())), 'accounts', /total supply/);
    expectProblem((g) => (g.accounts[4].roles = ['dso', 'king']), 'accounts[4].roles[1]', /must be one of/);
    expectProblem((g) => (g.accounts[4].roles = ['dso', 'dso']), 'accounts[4].roles[1]', /duplicate/);
    expectProblem((g) => (g.accounts[4].role = []), 'accounts[4].role', /unknown field/);
  });

  it('reports params problems', () => {
    expectProblem((g) => (g.params.blockPeriodMs = 0), 'params.blockPeriodMs', /between 1/);
    expectProblem((g) => (g.params.requestTimeoutMs = -5), 'params.requestTimeoutMs');
    expectProblem((g) => (g.params.emptyBlockPeriodMs = 10), 'params.emptyBlockPeriodMs', /blockPeriodMs/);
    expectProblem((g) => (g.params.emptyBlockPeriodMs = g.params.requestTimeoutMs), 'params.requestTimeoutMs', /greater than emptyBlockPeriodMs/);
    expectProblem((g) => (g.params.maxTxBytes = 10_000_000), 'params.maxTxBytes');
    expectProblem((g) => (g.params.maxBlockBytes = 100), 'params.maxBlockBytes', /maxTxBytes/);
    expectProblem((g) => (g.params.maxBlockTxs = 0), 'params.maxBlockTxs');
    expectProblem((g) => (g.params.minFee = 10), 'params.minFee', /decimal string/);
    expectProblem((g) => (g.params.blockTime = 1), 'params.blockTime', /unknown field/);
    expectProblem((g) => (g.params.tiers[1].name = 'gold'), 'params.tiers[1].name', /must be one of/);
    expectProblem((g) => (g.params.tiers[1].name = 'grid_balancing'), 'params.tiers[1].name', /duplicate/);
    expectProblem((g) => g.params.tiers.pop(), 'params.tiers', /missing tier/);
    expectProblem((g) => (g.params.tiers[0].minBlockShareBps = 9000), 'params.tiers', /10000/);
    expectProblem((g) => (g.params.tiers[2].baseFee = '5.5'), 'params.tiers[2].baseFee');
  });

  it('reports all problems at once', () => {
    const problems = problemsAfter((g) => {
      g.chainId = 'BAD';
      g.validators[0].blsKey = '0x00';
      g.accounts[2].balance = 'x';
      g.params.blockPeriodMs = 0;
    });
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['chainId', 'validators[0].blsKey', 'accounts[2].balance', 'params.blockPeriodMs']));
  });

  it('parseGenesis throws GENESIS_INVALID listing the problems', () => {
    const g = valid() as any;
    g.validators[1].name = 'validator-0';
    g.accounts[0].balance = '-3';
    try {
      parseGenesis(g);
      expect.unreachable();
    } catch (e: any) {
      expect(e.code).toBe('GENESIS_INVALID');
      expect(e.message).toContain('validators[1].name');
      expect(e.message).toContain('accounts[0].balance');
      expect(e.problems).toHaveLength(2);
    }
  });

  it('generateDevnet refuses bad input with a typed error', () => {
    expect(() => generateDevnet({ validators: 0, accounts: 1 })).toThrow(/validators/);
    expect(() => generateDevnet({ validators: 1, accounts: 1, chainId: 'Bad Id' })).toThrow(/chainId/);
  });
});
