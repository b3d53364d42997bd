import { describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import { addressFromPublicKey, blsFromSecret, ed25519FromSeed, formatAddress } from '../core/keys.ts';
import { signProofOfPossession } from '../core/pop.ts';
import { assembleGenesis, genesisHash, genesisFileText, parseGenesis, tryAssemble, type AssembleInput, type AssembleValidator } from './index.ts';

const CHAIN = 'ceremony-test';
const TIME = 1_767_225_600_000;

/** A validator entry as a card carries it, from fixed seeds (so the test is reproducible). */
function entry(i: number, chainId = CHAIN): AssembleValidator {
  const id = ed25519FromSeed(new Uint8Array(32).fill(i + 1));
  const bls = blsFromSecret(new Uint8Array(32).fill(i + 101));
  return {
    source: `cards/dso-${i}.json`,
    chainId,
    validator: {
      name: `dso-${i}`,
      address: formatAddress(addressFromPublicKey(id.publicKey)),
      identityKey: `0x${toHex(id.publicKey)}`,
      blsKey: `0x${toHex(bls.publicKey)}`,
      blsProofOfPossession: `0x${toHex(signProofOfPossession(chainId, bls.secretKey, bls.publicKey, id.publicKey))}`,
    },
  };
}

const cards = [0, 1, 2, 3].map((i) => entry(i));
const base = (over: Partial<AssembleInput> = {}): AssembleInput => ({
  chainId: CHAIN,
  genesisTime: TIME,
  validators: cards,
  validatorBalance: 1_000n,
  ...over,
});
const paths = (input: AssembleInput): string[] => tryAssemble(input).problems.map((p) => `${p.path}: ${p.message}`);

describe('assembleGenesis', () => {
  it('builds a genesis every node accepts, with a funded validator account per card', () => {
    const { genesis, json } = assembleGenesis(base());
    expect(parseGenesis(json)).toEqual(genesis);
    expect(genesis.validators.map((v) => v.name).sort()).toEqual(['dso-0', 'dso-1', 'dso-2', 'dso-3']);
    expect(genesis.accounts).toHaveLength(4);
    for (const v of genesis.validators) {
      const account = genesis.accounts.find((a) => toHex(a.address) === toHex(v.address));
      expect(account).toMatchObject({ balance: 1_000n, roles: ['validator'] });
    }
  });

  it('gives the same file and hash for the cards in any order', () => {
    const one = assembleGenesis(base());
    const texts = new Set<string>();
    const hashes = new Set<string>();
    for (const order of [
      [3, 2, 1, 0],
      [1, 3, 0, 2],
      [2, 0, 3, 1],
    ]) {
      const g = assembleGenesis(base({ validators: order.map((i) => cards[i]!) }));
      texts.add(genesisFileText(g.genesis));
      hashes.add(toHex(genesisHash(g.genesis)));
    }
    expect(texts).toEqual(new Set([genesisFileText(one.genesis)]));
    expect(hashes).toEqual(new Set([toHex(genesisHash(one.genesis))]));
    // ...and a different content gives another hash.
    expect(toHex(genesisHash(assembleGenesis(base({ genesisTime: TIME + 1 })).genesis))).not.toBe(toHex(genesisHash(one.genesis)));
  });

  it('merges an accounts entry for a validator (its balance and roles, plus validator) and keeps the others', () => {
    const other = formatAddress(addressFromPublicKey(ed25519FromSeed(new Uint8Array(32).fill(77)).publicKey));
    const accounts = [
      { address: cards[2]!.validator.address, balance: '5', roles: ['dso'] },
      { address: other, balance: '42', roles: ['aggregator'] },
    ];
    const { genesis } = assembleGenesis(base({ accounts, accountsSource: 'accounts.json' }));
    expect(genesis.accounts).toHaveLength(5);
    const v2 = genesis.accounts.find((a) => formatAddress(a.address) === cards[2]!.validator.address)!;
    expect(v2).toMatchObject({ balance: 5n, roles: ['dso', 'validator'] });
    expect(genesis.accounts.find((a) => formatAddress(a.address) === other)).toMatchObject({ balance: 42n, roles: ['aggregator'] });
  });

  it('applies the params file (defaults for what it omits)', () => {
    const { genesis } = assembleGenesis(base({ params: { blockPeriodMs: 300, emptyBlockPeriodMs: 300, requestTimeoutMs: 1500 }, paramsSource: 'params.json' }));
    expect(genesis.params).toMatchObject({ blockPeriodMs: 300, requestTimeoutMs: 1500, minFee: 10n });
  });

  it('names the card, the accounts entry or the params field of every problem', () => {
    expect(paths(base({ validators: [...cards, entry(4, 'other-chain')] }))).toEqual([
      'cards/dso-4.json: is a card for chain "other-chain", not "ceremony-test"',
    ]);
    const twin = { ...entry(5), validator: { ...entry(5).validator, name: 'dso-1' } };
    expect(paths(base({ validators: [...cards, twin] }))).toEqual([
      expect.stringMatching(/^cards\/dso-5\.json: name: duplicate name: same as cards\/dso-1\.json: name$/),
    ]);
    const swapped = { ...cards[1]!, validator: { ...cards[1]!.validator, blsProofOfPossession: cards[0]!.validator.blsProofOfPossession } };
    expect(paths(base({ validators: [cards[0]!, swapped] }))).toEqual([expect.stringMatching(/^cards\/dso-1\.json: blsProofOfPossession: does not verify/)]);
    expect(paths(base({ accounts: [{ address: 'joule1nope', balance: '1' }], accountsSource: 'accounts.json' }))).toEqual([
      expect.stringMatching(/^accounts\.json: \[0\]\.address: /),
    ]);
    expect(paths(base({ accounts: { not: 'an array' }, accountsSource: 'accounts.json' }))).toEqual([
      'accounts.json: must be a JSON array of { address, balance, roles }',
    ]);
    expect(paths(base({ params: { blockPeriodMs: 0, blockTime: 5 }, paramsSource: 'params.json' }))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^params\.json: blockPeriodMs: must be between 1/),
        expect.stringMatching(/^params\.json: blockTime: unknown field/),
      ]),
    );
    expect(paths(base({ chainId: 'Bad Chain' }))[0]).toMatch(/is a card for chain "ceremony-test", not "Bad Chain"/);
    expect(paths(base({ validators: [] }))).toEqual(['cards: at least one validator is required']);
    expect(paths(base({ validatorBalance: 2n ** 64n }))).toEqual([expect.stringMatching(/^validatorBalance: must fit in uint64/)]);
    expect(paths(base({ genesisTime: 1_767_225_600 }))).toEqual([expect.stringMatching(/^genesisTime: .*looks like seconds/)]);
  });

  // Found by the fuzzer (test/fuzz, target assemble): String() of a JSON value whose
  // `toString` is data threw a TypeError out of the ceremony instead of a problem report.
  it('an accounts entry whose address is not a string is a problem at its path, whatever JSON holds there', () => {
    for (const address of [{ toString: 1 }, [{ toString: [] }], { valueOf: {}, toString: {} }, 7, null]) {
      expect(paths(base({ accounts: [{ address, balance: '1' }], accountsSource: 'accounts.json' }))).toEqual([
        expect.stringMatching(/^accounts\.json: \[0\]\.address: /),
      ]);
    }
  });

  it('throws GENESIS_INVALID listing every problem', () => {
    try {
      assembleGenesis(base({ validators: [...cards, entry(4, 'other-chain')], validatorBalance: -1n }));
      expect.unreachable();
    } catch (e: any) {
      expect(e.code).toBe('GENESIS_INVALID');
      expect(e.problems).toHaveLength(2);
      expect(e.message).toContain('cards/dso-4.json');
    }
  });
});
