import { bls12_381 } from '@noble/curves/bls12-381.js';
import { describe, expect, it } from 'vitest';
import { equalBytes } from '../../core/bytes.ts';
import { deviceKeyAt, MAX_KEY_HISTORY } from '../../core/device.ts';
import { ErrorCode, JouleError } from '../../core/errors.ts';
import { blsFastAggregateVerify, blsPublicKey, blsSign } from '../../core/keys.ts';
import { devicePopMessage } from '../../core/pop.ts';
import { buildDeviceRegister } from '../../core/tx/device-register.ts';
import { buildDeviceRekey } from '../../core/tx/device-rekey.ts';
import { buildDeviceStatus, type DeviceStatusAction } from '../../core/tx/device-status.ts';
import { buildDeviceUpdate, type DeviceUpdateBody } from '../../core/tx/device-update.ts';
import type { Tx } from '../../core/tx.ts';
import type { TestValidator } from '../../consensus/testing/fixtures.ts';
import { getDevice, isCheckMeter } from '../../state/devices.ts';
import { listGovernanceProposals } from '../../state/governance-votes.ts';
import { executeBlock } from '../executor.ts';
import { devicePop, energyChain, ENERGY_CHAIN_ID, registerBody, testDeviceKey } from '../testing/energy-chain.ts';
import type { TestKey } from '../testing/fixtures.ts';

function rejection(f: () => unknown): { code: string; field: string | undefined; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof JouleError) return { code: e.code, field: e.field, message: e.message };
    throw e;
  }
  throw new Error('was not rejected');
}

function setup() {
  const c = energyChain({ accounts: { agg: ['aggregator'], dso: ['dso'], other: ['aggregator'], nobody: [], owner: [] } });
  const { agg, dso, other, nobody, owner } = c.accounts as Record<string, TestKey>;
  const update = (who: TestKey | TestValidator, u: DeviceUpdateBody, offset = 0): Tx => buildDeviceUpdate({ ...c.sender(who, offset), update: u });
  const status = (who: TestKey | TestValidator, id: string, action: DeviceStatusAction, offset = 0): Tx =>
    buildDeviceStatus({ ...c.sender(who, offset), id, action });
  return { c, agg: agg!, dso: dso!, other: other!, nobody: nobody!, owner: owner!, update, status };
}

describe('device-register', () => {
  it('registers an active device operated by the sender, its key valid from the next block', () => {
    const { c, agg, owner } = setup();
    const key = testDeviceKey(1);
    const h = c.height;
    const r = c.block(buildDeviceRegister({ ...c.sender(agg), device: registerBody('pv-1', key, owner.address, { kind: 'battery', zone: 'DE-LU' }) }));
    expect(r.receipts[0]).toMatchObject({ success: true });
    const d = getDevice(c.state, 'pv-1')!;
    expect(d).toMatchObject({ id: 'pv-1', kind: 'battery', zone: 'DE-LU', status: 'active', maxExportW: 10_000 });
    expect(equalBytes(d.operator, agg.address) && equalBytes(d.owner, owner.address)).toBe(true);
    expect(d.keyHistory).toEqual([{ key: key.publicKey, fromHeight: h + 1 }]);
    expect(deviceKeyAt(d, h)).toBeUndefined();
    expect(deviceKeyAt(d, h + 1)).toEqual(key.publicKey);
  });

  it('refuses a sender without the dso or aggregator role', () => {
    const { c, nobody } = setup();
    const tx = buildDeviceRegister({ ...c.sender(nobody), device: registerBody('m', testDeviceKey(1), nobody.address) });
    expect(rejection(() => c.check(tx))).toMatchObject({ code: ErrorCode.TX_UNAUTHORIZED, field: 'tx.sender' });
  });

  it('refuses a rogue key: a proof of possession that the key did not make, or made for another chain', () => {
    const { c, agg } = setup();
    const victim = testDeviceKey(1);
    const rogue = testDeviceKey(2);
    const stolen = registerBody('rogue', rogue, agg.address, { proofOfPossession: devicePop(victim) });
    expect(rejection(() => c.check(buildDeviceRegister({ ...c.sender(agg), device: stolen })))).toMatchObject({
      code: ErrorCode.TX_BAD_SIGNATURE,
      field: 'tx.body.proofOfPossession',
    });
    const otherChain = registerBody('rogue', rogue, agg.address, { proofOfPossession: devicePop(rogue, 'another-chain') });
    expect(rejection(() => c.check(buildDeviceRegister({ ...c.sender(agg), device: otherChain })))).toMatchObject({ code: ErrorCode.TX_BAD_SIGNATURE });
    // Not only at admission: a block carrying it is invalid.
    const tx = buildDeviceRegister({ ...c.sender(agg), device: stolen });
    expect(rejection(() => executeBlock(c.state, [tx], c.ctx())).message).toMatch(/TX_BAD_SIGNATURE/);
  });

  // pk_rogue = pk_attacker - pk_victim: a valid subgroup point whose sum with the victim's
  // key is the attacker's, so the attacker alone signs for "both". Its secret is unknown to
  // anyone, so no proof of possession for it can be made: the attacker's best (signed with
  // its own secret) is refused, at registration and at re-key.
  it('refuses a genuine rogue key (attacker minus victim) with the best proof its maker can sign', () => {
    const { c, agg } = setup();
    const victim = testDeviceKey(1);
    const attacker = testDeviceKey(2);
    const G1 = bls12_381.G1.Point;
    const rogueKey = G1.fromBytes(attacker.publicKey).subtract(G1.fromBytes(victim.publicKey)).toBytes(true);
    expect(blsPublicKey(rogueKey)).toBeDefined();
    const m = new TextEncoder().encode('any message');
    expect(blsFastAggregateVerify(m, [victim.publicKey, rogueKey], blsSign(attacker.secretKey, m))).toBe(true);
    const proof = blsSign(attacker.secretKey, devicePopMessage(ENERGY_CHAIN_ID, rogueKey));
    const body = { ...registerBody('rogue', attacker, agg.address), publicKey: rogueKey, proofOfPossession: proof };
    expect(rejection(() => c.check(buildDeviceRegister({ ...c.sender(agg), device: body })))).toMatchObject({
      code: ErrorCode.TX_BAD_SIGNATURE,
      field: 'tx.body.proofOfPossession',
    });
    c.register(agg, 'd', testDeviceKey(3));
    expect(rejection(() => c.check(buildDeviceRekey({ ...c.sender(agg), id: 'd', publicKey: rogueKey, proofOfPossession: proof })))).toMatchObject({
      code: ErrorCode.TX_BAD_SIGNATURE,
      field: 'tx.body.proofOfPossession',
    });
  });

  it('refuses a key that is not a G1 point', () => {
    const { c, agg } = setup();
    const body = { ...registerBody('m', testDeviceKey(1), agg.address), publicKey: new Uint8Array(48).fill(0xaa) };
    expect(rejection(() => c.check(buildDeviceRegister({ ...c.sender(agg), device: body })))).toMatchObject({
      code: ErrorCode.TX_INVALID_FIELD,
      field: 'tx.body.publicKey',
    });
  });

  it('refuses a duplicate id, a revoked one included (ids are never reused)', () => {
    const { c, agg, other, status } = setup();
    c.register(agg, 'm1', testDeviceKey(1));
    const again = () => buildDeviceRegister({ ...c.sender(other), device: registerBody('m1', testDeviceKey(2), other.address) });
    expect(rejection(() => c.check(again()))).toMatchObject({ code: ErrorCode.DEVICE_EXISTS, field: 'tx.body.id' });
    c.block(status(agg, 'm1', 'revoke'));
    expect(rejection(() => c.check(again()))).toMatchObject({ code: ErrorCode.DEVICE_EXISTS });
  });

  it('refuses a check meter that is not registered, or revoked', () => {
    const { c, agg, status } = setup();
    const tx = () => buildDeviceRegister({ ...c.sender(agg), device: registerBody('m2', testDeviceKey(2), agg.address, { checkMeter: 'cm' }) });
    expect(rejection(() => c.check(tx()))).toMatchObject({ code: ErrorCode.DEVICE_UNKNOWN, field: 'tx.body.checkMeter' });
    c.register(agg, 'cm', testDeviceKey(3), { kind: 'meter' });
    c.check(tx());
    c.block(status(agg, 'cm', 'revoke'));
    expect(rejection(() => c.check(tx()))).toMatchObject({ code: ErrorCode.DEVICE_INACTIVE, field: 'tx.body.checkMeter' });
  });

  it("refuses another operator's device as check meter: a device named so is never minted, so naming it would stop its energy", () => {
    const { c, agg, other, owner, update } = setup();
    c.register(other, 'their-pv', testDeviceKey(1));
    c.register(agg, 'mine', testDeviceKey(2));
    const named = { code: ErrorCode.TX_UNAUTHORIZED, field: 'tx.body.checkMeter' };
    const register = buildDeviceRegister({ ...c.sender(agg), device: registerBody('x', testDeviceKey(3), owner.address, { checkMeter: 'their-pv' }) });
    expect(rejection(() => c.check(register))).toMatchObject(named);
    expect(rejection(() => c.check(update(agg, { id: 'mine', checkMeter: 'their-pv' })))).toMatchObject(named);
    expect(isCheckMeter(c.state, 'their-pv')).toBe(false);
  });
});

describe('device-update', () => {
  it('the operator changes zone, limits, carbon intensity, check meter; the operator can hand the device to another', () => {
    const { c, agg, dso, update } = setup();
    c.register(agg, 'd', testDeviceKey(1));
    c.register(agg, 'cm', testDeviceKey(2), { kind: 'meter' });
    c.block(update(agg, { id: 'd', zone: 'BE', maxImportW: 1, maxExportW: 2, carbonIntensity: 3, checkMeter: 'cm' }));
    expect(getDevice(c.state, 'd')).toMatchObject({ zone: 'BE', maxImportW: 1, maxExportW: 2, carbonIntensity: 3, checkMeter: 'cm' });
    c.block(update(agg, { id: 'd', checkMeter: null, operator: dso.address }));
    const d = getDevice(c.state, 'd')!;
    expect(d.checkMeter).toBeUndefined();
    expect(equalBytes(d.operator, dso.address)).toBe(true);
    // The old operator has no say any more (and is no validator).
    expect(rejection(() => c.check(update(agg, { id: 'd', zone: 'NL' })))).toMatchObject({ code: ErrorCode.TX_UNAUTHORIZED, field: 'tx.sender' });
    c.block(update(dso, { id: 'd', zone: 'NL' }));
  });

  it('refuses an unknown device, another operator, a role-less new operator, an update that changes nothing', () => {
    const { c, agg, other, nobody, update } = setup();
    expect(rejection(() => c.check(update(agg, { id: 'ghost', zone: 'NL' })))).toMatchObject({ code: ErrorCode.DEVICE_UNKNOWN, field: 'tx.body.id' });
    c.register(agg, 'd', testDeviceKey(1));
    expect(rejection(() => c.check(update(other, { id: 'd', zone: 'BE' })))).toMatchObject({ code: ErrorCode.TX_UNAUTHORIZED, field: 'tx.sender' });
    expect(rejection(() => c.check(update(agg, { id: 'd', operator: nobody.address })))).toMatchObject({
      code: ErrorCode.TX_INVALID_FIELD,
      field: 'tx.body.operator',
    });
    expect(rejection(() => c.check(update(agg, { id: 'd', zone: 'NL' })))).toMatchObject({ code: ErrorCode.TX_INVALID_FIELD, field: 'tx.body' });
    expect(rejection(() => c.check(update(agg, { id: 'd', checkMeter: 'nope' })))).toMatchObject({
      code: ErrorCode.DEVICE_UNKNOWN,
      field: 'tx.body.checkMeter',
    });
  });

  it("by governance: validators' identical updates apply at floor(n/2)+1 of them, not before", () => {
    const { c, agg, update } = setup();
    c.register(agg, 'd', testDeviceKey(1));
    const [v0, v1, v2] = c.validators;
    const r1 = c.block(update(v0!, { id: 'd', maxExportW: 0 }));
    expect(r1.receipts[0]!.events.map((e) => e.type)).toEqual(['governance-vote']);
    expect(getDevice(c.state, 'd')!.maxExportW).toBe(10_000);
    expect(rejection(() => c.check(update(v0!, { id: 'd', maxExportW: 0 })))).toMatchObject({
      code: ErrorCode.TX_INVALID_FIELD,
      message: expect.stringMatching(/already voted/),
    });
    c.block(update(v1!, { id: 'd', maxExportW: 0 }));
    expect(getDevice(c.state, 'd')!.maxExportW).toBe(10_000);
    const r3 = c.block(update(v2!, { id: 'd', maxExportW: 0 }));
    expect(r3.receipts[0]!.events.map((e) => e.type)).toEqual(['governance-vote', 'governance-applied', 'device-updated']);
    expect(getDevice(c.state, 'd')!.maxExportW).toBe(0);
    expect(listGovernanceProposals(c.state)).toEqual([]);
  });
});

describe('device-status', () => {
  it('suspend, reactivate, revoke; revoked is final for every change', () => {
    const { c, agg, update, status } = setup();
    c.register(agg, 'd', testDeviceKey(1));
    c.block(status(agg, 'd', 'suspend'));
    expect(getDevice(c.state, 'd')!.status).toBe('suspended');
    expect(rejection(() => c.check(status(agg, 'd', 'suspend')))).toMatchObject({ code: ErrorCode.TX_INVALID_FIELD, field: 'tx.body.action' });
    c.block(status(agg, 'd', 'reactivate'));
    expect(rejection(() => c.check(status(agg, 'd', 'reactivate')))).toMatchObject({ field: 'tx.body.action' });
    c.block(status(agg, 'd', 'revoke'));
    expect(getDevice(c.state, 'd')!.status).toBe('revoked');
    for (const tx of [
      status(agg, 'd', 'reactivate'),
      status(agg, 'd', 'revoke'),
      update(agg, { id: 'd', zone: 'BE' }),
      buildDeviceRekey({ ...c.sender(agg), id: 'd', publicKey: testDeviceKey(9).publicKey, proofOfPossession: devicePop(testDeviceKey(9)) }),
    ]) {
      expect(rejection(() => c.check(tx))).toMatchObject({ code: ErrorCode.DEVICE_INACTIVE, field: 'tx.body.id' });
    }
  });

  it('refuses a stranger and an unknown device; governance may suspend', () => {
    const { c, agg, other, status } = setup();
    expect(rejection(() => c.check(status(agg, 'ghost', 'suspend')))).toMatchObject({ code: ErrorCode.DEVICE_UNKNOWN });
    c.register(agg, 'd', testDeviceKey(1));
    expect(rejection(() => c.check(status(other, 'd', 'revoke')))).toMatchObject({ code: ErrorCode.TX_UNAUTHORIZED });
    for (const v of c.validators.slice(0, 3)) c.block(status(v, 'd', 'suspend'));
    expect(getDevice(c.state, 'd')!.status).toBe('suspended');
  });
});

describe('device-rekey', () => {
  it('records the new key from the next height; the old key stays valid for the heights before', () => {
    const { c, agg } = setup();
    const k1 = testDeviceKey(1);
    const k2 = testDeviceKey(2);
    c.register(agg, 'd', k1);
    const h = c.height;
    c.block(buildDeviceRekey({ ...c.sender(agg), id: 'd', publicKey: k2.publicKey, proofOfPossession: devicePop(k2) }));
    const d = getDevice(c.state, 'd')!;
    expect(d.publicKey).toEqual(k2.publicKey);
    expect(d.keyHistory.map((k) => k.fromHeight)).toEqual([h, h + 1]);
    expect(deviceKeyAt(d, h)).toEqual(k1.publicKey);
    expect(deviceKeyAt(d, h + 1)).toEqual(k2.publicKey);
  });

  it('two re-keys in one block: the second replaces the first (never valid at any height)', () => {
    const { c, agg } = setup();
    c.register(agg, 'd', testDeviceKey(1));
    const [k2, k3] = [testDeviceKey(2), testDeviceKey(3)];
    const h = c.height;
    c.block(
      buildDeviceRekey({ ...c.sender(agg), id: 'd', publicKey: k2.publicKey, proofOfPossession: devicePop(k2) }),
      buildDeviceRekey({ ...c.sender(agg, 1), id: 'd', publicKey: k3.publicKey, proofOfPossession: devicePop(k3) }),
    );
    const d = getDevice(c.state, 'd')!;
    expect(d.keyHistory.map((k) => [k.key, k.fromHeight])).toEqual([
      [testDeviceKey(1).publicKey, h],
      [k3.publicKey, h + 1],
    ]);
  });

  it('refuses a rogue key, a key used before, a non-operator (validators included), a full history', () => {
    const { c, agg, other } = setup();
    const k1 = testDeviceKey(1);
    c.register(agg, 'd', k1);
    const rekey = (who: TestKey | TestValidator, key = testDeviceKey(2), proof = devicePop(key)) =>
      buildDeviceRekey({ ...c.sender(who), id: 'd', publicKey: key.publicKey, proofOfPossession: proof });
    expect(rejection(() => c.check(rekey(agg, testDeviceKey(2), devicePop(testDeviceKey(3)))))).toMatchObject({
      code: ErrorCode.TX_BAD_SIGNATURE,
      field: 'tx.body.proofOfPossession',
    });
    expect(rejection(() => c.check(rekey(agg, k1)))).toMatchObject({ code: ErrorCode.TX_INVALID_FIELD, field: 'tx.body.publicKey' });
    expect(rejection(() => c.check(rekey(other)))).toMatchObject({ code: ErrorCode.TX_UNAUTHORIZED });
    expect(rejection(() => c.check(rekey(c.validators[0]!)))).toMatchObject({ code: ErrorCode.TX_UNAUTHORIZED });
    for (let i = 2; i <= MAX_KEY_HISTORY; i++) c.block(rekey(agg, testDeviceKey(i)));
    expect(getDevice(c.state, 'd')!.keyHistory).toHaveLength(MAX_KEY_HISTORY);
    expect(rejection(() => c.check(rekey(agg, testDeviceKey(1000))))).toMatchObject({ code: ErrorCode.TX_INVALID_FIELD, field: 'tx.body.id' });
  });
});

it('a device registered on another chain id cannot be registered here with the same proof', () => {
  const { c, agg } = setup();
  const k = testDeviceKey(5);
  const body = { ...registerBody('x', k, agg.address), proofOfPossession: devicePop(k, `${ENERGY_CHAIN_ID}-2`) };
  expect(rejection(() => c.check(buildDeviceRegister({ ...c.sender(agg), device: body }))).code).toBe(ErrorCode.TX_BAD_SIGNATURE);
});
