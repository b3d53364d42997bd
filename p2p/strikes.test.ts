import { describe, expect, it } from 'vitest';
import { Strikes } from './strikes.ts';

describe('Strikes', () => {
  it('is out on the max-th offence within the window, then starts over', () => {
    let now = 0;
    const s = new Strikes({ max: 3, windowMs: 1000 }, () => now);
    expect(s.add('a')).toBe(false);
    now = 400;
    expect(s.add('a')).toBe(false);
    expect(s.add('b')).toBe(false); // peers are counted apart
    now = 900;
    expect(s.add('a')).toBe(true);
    expect(s.add('a')).toBe(false);
  });

  it('forgets offences older than the window', () => {
    let now = 0;
    const s = new Strikes({ max: 2, windowMs: 1000 }, () => now);
    expect(s.add('a')).toBe(false);
    now = 1000;
    expect(s.add('a')).toBe(false);
    now = 1999;
    expect(s.add('a')).toBe(true);
  });

  it('with max 1 every offence is out', () => {
    const s = new Strikes({ max: 1, windowMs: 1000 }, () => 0);
    expect(s.add('a')).toBe(true);
    expect(s.add('a')).toBe(true);
  });
});
