import { describe, expect, it } from 'vitest';
import { commandHash, type CommandFields } from '../../core/command.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { commandKey } from '../../core/state-keys.ts';
import { encode } from '../../core/codec.ts';
import { buildCommandAnchor, decodeCommandAnchorBody } from '../../core/tx/command-anchor.ts';
import { signBody } from '../../core/tx/sign.ts';
import { TxType } from '../../core/tx/types.ts';
import { buildDeviceStatus } from '../../core/tx/device-status.ts';
import { getAnchoredCommand } from '../../state/commands.ts';
import { txAccess } from '../access.ts';
import { energyChain, ENERGY_CHAIN_ID, testDeviceKey } from '../testing/energy-chain.ts';
import type { TestKey } from '../testing/fixtures.ts';
import { ANCHOR_GRACE_US, MAX_ANCHOR_AHEAD_US } from './anchor.ts';

function rejection(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof JouleError) return `${e.code} ${e.field}`;
    throw e;
  }
  throw new Error('was not rejected');
}

function setup() {
  const c = energyChain({ accounts: { dso: ['dso'], other: ['dso'], agg: ['aggregator'] } });
  const { dso, other, agg } = c.accounts as Record<string, TestKey>;
  c.register(dso!, 'ev-1', testDeviceKey(1), { zone: 'NL' });
  c.register(dso!, 'ev-2', testDeviceKey(2), { zone: 'NL' });
  c.register(dso!, 'ev-3', testDeviceKey(3), { zone: 'BE' });
  c.register(other!, 'x-1', testDeviceKey(4), { zone: 'NL' });
  c.register(agg!, 'a-1', testDeviceKey(5), { zone: 'NL' });
  const nowUs = () => BigInt(c.now()) * 1000n;
  const fields = (over: Partial<CommandFields> = {}): CommandFields => ({
    type: 3,
    deviceIds: ['ev-1', 'ev-2'],
    zone: undefined,
    powerLimitW: 4000,
    priceMicroPerKwh: 150_000n,
    validFromUs: nowUs(),
    validUntilUs: nowUs() + 300_000_000n,
    ...over,
  });
  const anchor = (who: TestKey, over: Partial<CommandFields> = {}, offset = 0) => buildCommandAnchor({ ...c.sender(who, offset), ...fields(over) });
  return { c, dso: dso!, other: other!, agg: agg!, anchor, fields, nowUs };
}

describe('command-anchor (type 28)', () => {
  it('records the command under its hash, provable state, with an event', () => {
    const { c, dso, anchor } = setup();
    const tx = anchor(dso, { zone: 'NL' });
    c.check(tx);
    const r = c.block(tx);
    expect(r.receipts[0]).toMatchObject({ success: true });
    const body = decodeCommandAnchorBody(tx.body);
    const hash = commandHash(ENERGY_CHAIN_ID, { ...body, issuer: dso.address });
    const events = r.receipts[0]!.events;
    expect(events[0]!.type).toBe('command-anchored');
    expect(events[0]!.attributes).toContainEqual(['commandHash', Buffer.from(hash).toString('hex')]);
    expect(getAnchoredCommand(c.state, hash)).toEqual({ ...body, issuer: dso.address, height: c.height - 1 });
    expect(txAccess(tx).keys.map((k) => Buffer.from(k).toString('hex'))).toContain(Buffer.from(commandKey(hash)).toString('hex'));
  });

  it('refuses a sender without the dso role', () => {
    const { c, agg, anchor } = setup();
    expect(rejection(() => c.check(anchor(agg, { deviceIds: ['a-1'] })))).toBe(`${ErrorCode.TX_UNAUTHORIZED} tx.sender`);
  });

  it('refuses an unknown target', () => {
    const { c, dso, anchor } = setup();
    expect(rejection(() => c.check(anchor(dso, { deviceIds: ['ev-1', 'ev-9'] })))).toBe(`${ErrorCode.DEVICE_UNKNOWN} tx.body.deviceIds[1]`);
  });

  it("refuses a target another account operates (another dso's device, an aggregator's)", () => {
    const { c, dso, anchor } = setup();
    expect(rejection(() => c.check(anchor(dso, { deviceIds: ['ev-1', 'x-1'] })))).toBe(`${ErrorCode.TX_UNAUTHORIZED} tx.body.deviceIds[1]`);
    expect(rejection(() => c.check(anchor(dso, { deviceIds: ['a-1'] })))).toBe(`${ErrorCode.TX_UNAUTHORIZED} tx.body.deviceIds[0]`);
  });

  it('refuses a revoked target', () => {
    const { c, dso, anchor } = setup();
    c.block(buildDeviceStatus({ ...c.sender(dso), id: 'ev-2', action: 'revoke' }));
    expect(rejection(() => c.check(anchor(dso)))).toBe(`${ErrorCode.DEVICE_INACTIVE} tx.body.deviceIds[1]`);
  });

  it('refuses a target outside the named zone', () => {
    const { c, dso, anchor } = setup();
    expect(rejection(() => c.check(anchor(dso, { deviceIds: ['ev-1', 'ev-3'], zone: 'NL' })))).toBe(`${ErrorCode.TX_INVALID_FIELD} tx.body.deviceIds[1]`);
  });

  it('refuses the same command twice, in a later block or the same one', () => {
    const { c, dso, anchor, fields } = setup();
    const f = fields();
    const first = anchor(dso, f);
    const again = anchor(dso, f, 1);
    expect(() => c.block(first, again)).toThrow(/COMMAND_DUPLICATE|already anchored/);
    c.block(first);
    expect(rejection(() => c.check(anchor(dso, f)))).toBe(`${ErrorCode.COMMAND_DUPLICATE} tx.body`);
    // A new window is a new command.
    c.check(anchor(dso, { ...f, validUntilUs: f.validUntilUs + 1n }));
  });

  it('refuses an anchor more than the grace after its window, and one opening too far ahead', () => {
    const { c, dso, anchor, nowUs } = setup();
    const ended = nowUs() - ANCHOR_GRACE_US - 1n;
    expect(rejection(() => c.check(anchor(dso, { validFromUs: ended - 1000n, validUntilUs: ended })))).toBe(
      `${ErrorCode.COMMAND_EXPIRED} tx.body.validUntilUs`,
    );
    // Within the grace: the command was delivered while valid; its anchor still lands.
    c.check(anchor(dso, { validFromUs: ended - 1000n, validUntilUs: ended + 2n }));
    const late = nowUs() + MAX_ANCHOR_AHEAD_US + 1n;
    expect(rejection(() => c.check(anchor(dso, { validFromUs: late, validUntilUs: late + 1000n })))).toBe(`${ErrorCode.TX_INVALID_FIELD} tx.body.validFromUs`);
  });

  it('refuses a malformed body before any state rule', () => {
    const { c, dso, anchor } = setup();
    expect(() => anchor(dso, { deviceIds: ['ev-2', 'ev-1'] })).toThrow(/strictly ascending/);
    const idleWithPower = signBody(c.sender(dso), TxType.commandAnchor, encode([2, ['ev-1'], null, 5, 0n, 1n, 2n]));
    expect(rejection(() => c.check(idleWithPower))).toBe(`${ErrorCode.TX_INVALID_FIELD} tx.body.powerLimitW`);
  });
});
