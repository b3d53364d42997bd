import { describe, expect, it } from 'vitest';
import { toHex } from '../core/bytes.ts';
import { addressFromPublicKey, ed25519Generate, formatAddress } from '../core/keys.ts';
import { generateDevnet, genesisHash, genesisToJson, parseGenesis, validateGenesis, type GenesisJson } from './index.ts';

const devnet = generateDevnet({ validators: 1, accounts: 1, genesisTime: 1_750_000_000_000, governors: 3 });
const valid = (): GenesisJson => structuredClone(genesisToJson(devnet.genesis));
const stranger = () => formatAddress(addressFromPublicKey(ed25519Generate().publicKey));

function problemsAfter(edit: (g: GenesisJson) => void) {
  const g = valid();
  edit(g);
  return validateGenesis(g);
}

describe('genesis governors', () => {
  it('a devnet names 3 funded governors with k = 2; they round-trip and are hashed', () => {
    expect(devnet.governorKeys!.map((k) => k.name)).toEqual(['governor-0', 'governor-1', 'governor-2']);
    expect(devnet.genesis.governorThreshold).toBe(2);
    const json = valid();
    expect(json.governors).toHaveLength(3);
    const parsed = parseGenesis(json);
    expect(parsed.governors!.map(toHex)).toEqual(devnet.genesis.governors!.map(toHex));
    for (const g of parsed.governors!) expect(parsed.accounts.some((a) => toHex(a.address) === toHex(g) && a.balance > 0n)).toBe(true);
    const other = valid();
    other.governorThreshold = 3;
    expect(toHex(genesisHash(parseGenesis(other)))).not.toBe(toHex(genesisHash(parsed)));
  });

  it('a genesis without governors keeps its identity', () => {
    const plain = generateDevnet({ validators: 1, accounts: 1, genesisTime: 1_750_000_000_000 });
    const json = genesisToJson(plain.genesis);
    expect(json.governors).toBeUndefined();
    expect(toHex(genesisHash(parseGenesis(json)))).toBe(toHex(genesisHash(plain.genesis)));
  });

  it('k between 1 and the number of governors, addresses distinct and well-formed, both fields or neither', () => {
    expect(problemsAfter((g) => (g.governorThreshold = 0))).toContainEqual({ path: 'governorThreshold', message: expect.stringMatching(/between 1 and 3/) });
    expect(problemsAfter((g) => (g.governorThreshold = 4))).toContainEqual({ path: 'governorThreshold', message: expect.stringMatching(/between 1 and 3/) });
    expect(problemsAfter((g) => delete g.governorThreshold)).toContainEqual(expect.objectContaining({ path: 'governorThreshold' }));
    expect(problemsAfter((g) => delete g.governors)).toContainEqual(expect.objectContaining({ path: 'governors' }));
    expect(problemsAfter((g) => (g.governors = [g.governors![0]!, g.governors![0]!]))).toContainEqual({
      path: 'governors[1]',
      message: expect.stringMatching(/duplicate address/),
    });
    expect(problemsAfter((g) => (g.governors![2] = 'joule1nope'))).toContainEqual(expect.objectContaining({ path: 'governors[2]' }));
    expect(problemsAfter((g) => (g.governors = []))).toContainEqual(expect.objectContaining({ path: 'governors' }));
    expect(problemsAfter((g) => (g.governors = Array.from({ length: 65 }, stranger)))).toContainEqual({
      path: 'governors',
      message: expect.stringMatching(/at most 64/),
    });
    // A governor need not hold an account in genesis (it cannot pay fees until funded, but it is valid).
    expect(problemsAfter((g) => (g.governors![0] = stranger()))).toEqual([]);
  });
});
