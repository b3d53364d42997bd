import { describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.ts';
import { generateDevnet } from '../../genesis/index.ts';
import { getGovernorSet } from '../../state/reversals.ts';
import { MemoryState } from '../../vm/testing/fixtures.ts';
import { genesisChanges } from './genesis-state.ts';

describe('genesis state', () => {
  it('writes the governors and k when genesis names them, and nothing under 0x23 otherwise', () => {
    const named = generateDevnet({ validators: 1, accounts: 0, genesisTime: 1_750_000_000_000, governors: 3 });
    const state = new MemoryState();
    state.apply(genesisChanges(named.genesis));
    const g = getGovernorSet(state)!;
    expect(g.threshold).toBe(2);
    expect(g.governors.map(toHex).sort()).toEqual(named.genesis.governors!.map(toHex).sort());

    const plain = new MemoryState();
    plain.apply(genesisChanges(generateDevnet({ validators: 1, accounts: 0, genesisTime: 1_750_000_000_000 }).genesis));
    expect(getGovernorSet(plain)).toBeUndefined();
  });
});
