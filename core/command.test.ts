import { describe, expect, it } from 'vitest';
import { decode } from './codec.ts';
import {
  canonicalTargets,
  checkCommandFields,
  commandHash,
  commandHashPayload,
  commandIdOf,
  isCommandExpired,
  issuedCommand,
  MAX_COMMAND_TARGETS,
  MAX_COMMAND_WINDOW_US,
  type CommandRecord,
} from './command.ts';
import { JouleError } from './errors.ts';
import { buildCommandAnchor, decodeCommandAnchorBody, encodeCommandAnchorBody } from './tx/command-anchor.ts';
import { encode } from './codec.ts';

const issuer = new Uint8Array(20).fill(7);
const base: CommandRecord = {
  issuer,
  type: 3,
  deviceIds: ['ev-1', 'ev-2'],
  zone: undefined,
  powerLimitW: 5000,
  priceMicroPerKwh: 120_000n,
  validFromUs: 1_700_000_000_000_000n,
  validUntilUs: 1_700_000_300_000_000n,
};

function fieldOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof JouleError) return `${e.code} ${e.field}`;
    throw e;
  }
  throw new Error('not rejected');
}

describe('command record', () => {
  it('hashes under the grid-command domain and the chain id', () => {
    const payload = decode(commandHashPayload('chain-a', base)) as unknown[];
    expect(payload.slice(0, 2)).toEqual(['JOULE/grid-command/v1', 'chain-a']);
    expect(commandHash('chain-a', base)).not.toEqual(commandHash('chain-b', base));
    expect(commandHash('chain-a', base)).not.toEqual(commandHash('chain-a', { ...base, issuer: new Uint8Array(20).fill(8) }));
    expect(commandHash('chain-a', base)).not.toEqual(commandHash('chain-a', { ...base, zone: 'NL' }));
    expect(commandHash('chain-a', base)).toEqual(commandHash('chain-a', { ...base }));
  });

  it('announces the hash as id, the resolved targets and integer fields only', () => {
    const c = issuedCommand('chain-a', base);
    expect(c.commandId).toBe(commandIdOf(commandHash('chain-a', base)));
    expect(c.commandHash).toHaveLength(32);
    expect(c).toMatchObject({ type: 3, powerLimitW: 5000, priceMicroPerKwh: 120_000n, validUntilUs: base.validUntilUs, deviceIds: ['ev-1', 'ev-2'] });
  });

  it('is expired once its window has ended', () => {
    expect(isCommandExpired(base, base.validUntilUs - 1n)).toBe(false);
    expect(isCommandExpired(base, base.validUntilUs)).toBe(true);
  });

  it('sorts and de-duplicates targets', () => {
    expect(canonicalTargets(['b', 'a', 'b', 'A'])).toEqual(['A', 'a', 'b']);
  });

  it('refuses each bad field, naming it', () => {
    const bad = (over: Partial<CommandRecord>) => fieldOf(() => checkCommandFields({ ...base, ...over }));
    expect(bad({ type: 4 as 0 })).toBe('TX_INVALID_FIELD tx.body.type');
    expect(bad({ deviceIds: [] })).toBe('TX_INVALID_FIELD tx.body.deviceIds');
    expect(bad({ deviceIds: Array.from({ length: MAX_COMMAND_TARGETS + 1 }, (_, i) => `d${String(i).padStart(4, '0')}`) })).toBe(
      'TX_INVALID_FIELD tx.body.deviceIds',
    );
    expect(bad({ deviceIds: ['b', 'a'] })).toBe('TX_INVALID_FIELD tx.body.deviceIds[1]');
    expect(bad({ deviceIds: ['a', 'a'] })).toBe('TX_INVALID_FIELD tx.body.deviceIds[1]');
    expect(bad({ deviceIds: ['a b'] })).toBe('TX_INVALID_FIELD tx.body.deviceIds[0]');
    expect(bad({ zone: 'bad zone' })).toBe('TX_INVALID_FIELD tx.body.zone');
    expect(bad({ powerLimitW: 1.5 })).toBe('TX_INVALID_FIELD tx.body.powerLimitW');
    expect(bad({ powerLimitW: -1 })).toBe('TX_INVALID_FIELD tx.body.powerLimitW');
    expect(bad({ type: 2 })).toBe('TX_INVALID_FIELD tx.body.powerLimitW');
    expect(bad({ priceMicroPerKwh: -1n })).toBe('TX_INVALID_FIELD tx.body.priceMicroPerKwh');
    expect(bad({ priceMicroPerKwh: 2n ** 63n })).toBe('TX_INVALID_FIELD tx.body.priceMicroPerKwh');
    expect(bad({ validFromUs: -1n })).toBe('TX_INVALID_FIELD tx.body.validFromUs');
    expect(bad({ validUntilUs: base.validFromUs })).toBe('TX_INVALID_FIELD tx.body.validUntilUs');
    expect(bad({ validUntilUs: base.validFromUs + MAX_COMMAND_WINDOW_US + 1n })).toBe('TX_INVALID_FIELD tx.body.validUntilUs');
    expect(() => checkCommandFields({ ...base, validUntilUs: base.validFromUs + MAX_COMMAND_WINDOW_US })).not.toThrow();
    expect(() => checkCommandFields({ ...base, type: 2, powerLimitW: 0 })).not.toThrow();
  });
});

describe('command-anchor body', () => {
  it('round-trips, with and without a zone', () => {
    for (const b of [base, { ...base, zone: 'NL-north' }]) {
      const bytes = encodeCommandAnchorBody(b);
      const back = decodeCommandAnchorBody(bytes);
      const { issuer: _issuer, ...fields } = b;
      expect(back).toEqual(fields);
      expect(encodeCommandAnchorBody(back)).toEqual(bytes);
    }
  });

  it('refuses malformed wire bodies, naming the field', () => {
    const wire = (f: unknown[]) => fieldOf(() => decodeCommandAnchorBody(encode(f as never)));
    const ok = [3, ['ev-1'], null, 5000, 1n, 1n, 2n];
    expect(wire(ok.slice(0, 6))).toBe('CODEC_WRONG_TYPE tx.body');
    expect(wire([9, ...ok.slice(1)])).toBe('TX_INVALID_FIELD tx.body.type');
    expect(wire([3, 'ev-1', ...ok.slice(2)])).toBe('CODEC_WRONG_TYPE tx.body.deviceIds');
    expect(wire([3, [], ...ok.slice(2)])).toBe('TX_INVALID_FIELD tx.body.deviceIds');
    expect(wire([3, [7], ...ok.slice(2)])).toBe('CODEC_WRONG_TYPE tx.body.deviceIds[0]');
    expect(wire([3, ['ev-1'], 5, ...ok.slice(3)])).toBe('CODEC_WRONG_TYPE tx.body.zone');
    expect(wire([...ok.slice(0, 3), -5, ...ok.slice(4)])).toBe('CODEC_WRONG_TYPE tx.body.powerLimitW');
    expect(wire([...ok.slice(0, 4), -1, ...ok.slice(5)])).toBe('CODEC_WRONG_TYPE tx.body.priceMicroPerKwh');
    expect(wire([...ok.slice(0, 5), 3n, 2n])).toBe('TX_INVALID_FIELD tx.body.validUntilUs');
  });

  it('builds a signed type-28 tx', () => {
    const tx = buildCommandAnchor({ chainId: 'c', seed: new Uint8Array(32).fill(1), nonce: 0, fee: 25n, ...base });
    expect(tx.type).toBe(28);
    expect(decodeCommandAnchorBody(tx.body).deviceIds).toEqual(base.deviceIds);
  });
});
