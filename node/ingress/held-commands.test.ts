import { describe, expect, it } from 'vitest';
import type { IssuedCommand } from '../../core/command.ts';
import { HeldCommands } from './held-commands.ts';

const command = (commandId: string, validUntilUs: bigint): IssuedCommand => ({
  commandId,
  type: 1,
  powerLimitW: 7400,
  priceMicroPerKwh: 250_000n,
  validUntilUs,
  commandHash: new Uint8Array(32),
  deviceIds: ['d'],
  issuer: new Uint8Array(20),
});
const ids = (cs: readonly IssuedCommand[]) => cs.map((c) => c.commandId);

describe('HeldCommands', () => {
  it('hands a device what is still valid when it connects, in issue order, once', () => {
    const held = new HeldCommands({ perDevice: 4, total: 10 });
    expect(held.hold('d', command('a', 2_000n), 1_000n)).toBe(true);
    expect(held.hold('d', command('b', 1_500n), 1_000n)).toBe(true);
    expect(held.hold('d', command('c', 3_000n), 1_000n)).toBe(true);
    expect(held.hold('e', command('x', 3_000n), 1_000n)).toBe(true);
    expect(held.size).toBe(4);
    // 'b' ended before the device came back: never delivered.
    expect(ids(held.take('d', 1_600n))).toEqual(['a', 'c']);
    expect(held.take('d', 1_600n)).toEqual([]);
    expect(held.size).toBe(1);
    expect(ids(held.take('e', 3_000n))).toEqual(['x']);
  });

  it('never holds a command whose window has ended', () => {
    const held = new HeldCommands({ perDevice: 4, total: 10 });
    expect(held.hold('d', command('old', 999n), 1_000n)).toBe(false);
    expect(held.size).toBe(0);
  });

  it('per device: the command that ends soonest gives way, and a newcomer ending sooner than all is not held', () => {
    const held = new HeldCommands({ perDevice: 2, total: 10 });
    held.hold('d', command('a', 5_000n), 0n);
    held.hold('d', command('b', 3_000n), 0n);
    expect(held.hold('d', command('c', 4_000n), 0n)).toBe(true);
    expect(held.hold('d', command('early', 1_000n), 0n)).toBe(false);
    expect(held.size).toBe(2);
    expect(ids(held.take('d', 0n))).toEqual(['a', 'c']);
  });

  it('in total: expired commands are swept to make room; while all are live, a new one is not held', () => {
    const held = new HeldCommands({ perDevice: 4, total: 2 });
    held.hold('d1', command('a', 1_500n), 0n);
    held.hold('d2', command('b', 10_000_000n), 0n);
    expect(held.hold('d3', command('c', 10_000_000n), 0n)).toBe(false);
    // 'a' has ended by 2 s: swept, and 'c' takes its place.
    expect(held.hold('d3', command('c', 10_000_000n), 2_000_000n)).toBe(true);
    expect(held.size).toBe(2);
    expect(held.take('d1', 2_000_000n)).toEqual([]);
    expect(ids(held.take('d3', 2_000_000n))).toEqual(['c']);
  });
});
