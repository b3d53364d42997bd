import { describe, expect, it } from 'vitest';
import { defaultPerAddress, PerAddressLimit } from './per-address-limit.ts';

describe('PerAddressLimit', () => {
  it('an address holds at most its limit; other addresses are not affected; a place given back makes room', () => {
    const limit = new PerAddressLimit(2);
    const a1 = limit.admit('10.0.0.1');
    const a2 = limit.admit('10.0.0.1');
    expect([a1, a2].every((r) => r !== undefined)).toBe(true);
    expect(limit.admit('10.0.0.1')).toBeUndefined();
    expect(limit.admit('10.0.0.2')).toBeDefined();
    a1!();
    expect(limit.heldBy('10.0.0.1')).toBe(1);
    expect(limit.admit('10.0.0.1')).toBeDefined();
    expect(limit.admit('10.0.0.1')).toBeUndefined();
  });

  it('giving a place back twice gives back one place, not two', () => {
    const limit = new PerAddressLimit(2);
    const first = limit.admit('a')!;
    limit.admit('a');
    first();
    first();
    expect(limit.heldBy('a')).toBe(1);
    expect(limit.admit('a')).toBeDefined();
    expect(limit.admit('a')).toBeUndefined();
  });

  it('an address that holds nothing is forgotten, so hosts that came and went hold no memory', () => {
    const limit = new PerAddressLimit(1);
    const held = Array.from({ length: 1000 }, (_, i) => limit.admit(`10.0.${i >> 8}.${i & 255}`)!);
    expect(limit.addresses).toBe(1000);
    for (const giveBack of held) giveBack();
    expect(limit.addresses).toBe(0);
  });

  it('by default an address may hold an eighth of a cap, but at least 8 places or the whole cap', () => {
    expect([1024, 204, 65, 64, 16, 3, 1].map(defaultPerAddress)).toEqual([128, 26, 9, 8, 8, 3, 1]);
  });
});
