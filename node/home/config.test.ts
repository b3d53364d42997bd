import { describe, expect, it } from 'vitest';
import { isJouleError } from '../../core/errors.ts';
import { parseConfig } from './config.ts';

describe('config: verify.workers', () => {
  it('defaults to null (the machine decides), takes a positive integer, and refuses anything else naming the field', () => {
    expect(parseConfig({}).verify.workers).toBeNull();
    expect(parseConfig({ verify: { workers: 3 } }).verify.workers).toBe(3);
    for (const workers of [0, -1, 1.5, '2']) {
      try {
        parseConfig({ verify: { workers } });
        expect.unreachable();
      } catch (e) {
        expect(isJouleError(e) && `${e.code} ${e.field}`).toBe('CONFIG_INVALID config.verify.workers');
      }
    }
  });
});
